"""Learned super-resolution networks, one file per model (EDSR, WDSR, SRGAN), in the layer layout of
krasserm/super-resolution so its published Keras weight files load by layer name, and their trainer.

Imported by `upscale.learned` and the `train_sr` stage."""

from __future__ import annotations

from typing import Any, Optional

from facepipe.errors import ConfigError

__all__ = ["ARCHITECTURES", "build_network"]

ARCHITECTURES = ("edsr", "wdsr_b", "srgan")


def build_network(
    name: str,
    scale: int = 4,
    filters: Optional[int] = None,
    blocks: Optional[int] = None,
    key: str = "upscaler.network",
) -> Any:
    """An untrained network by architecture name; `filters` / `blocks` default to the model file's own.
    `key` names the config the values came from, for the one-line error."""
    from facepipe.upscale.sr import edsr, srgan, wdsr

    modules = {"edsr": (edsr, edsr.edsr), "wdsr_b": (wdsr, wdsr.wdsr_b), "srgan": (srgan, srgan.sr_resnet)}
    if name not in modules:
        raise ConfigError(f"{key}.name={name!r}; valid: {', '.join(ARCHITECTURES)}")
    module, builder = modules[name]
    if scale not in module.SCALES:
        raise ConfigError(
            f"{key}.scale={scale} is not supported by {name}; valid: {', '.join(map(str, module.SCALES))}"
        )
    kw = {k: int(v) for k, v in (("num_filters", filters), ("num_res_blocks", blocks)) if v is not None}
    return builder(scale, **kw)
