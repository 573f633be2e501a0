"""Upscaling to the output size: the `Upscaler` protocol (`base.py`), interpolation, FSRCNN, and the
learned networks of `sr/` (EDSR, WDSR, SRGAN), one backend per file chosen by `conf/upscaler/`.

Imports `models/`, `io` and `errors`; only `stages/`, `evaluate/` and the commands import it.
"""
