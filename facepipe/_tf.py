"""Import TensorFlow/Keras (and create LiteRT interpreters) quietly and deterministically.

TensorFlow prints C++ start-up chatter (CUDA probes, oneDNN notices) straight to file descriptor 2,
which Python-level logging cannot filter; we silence that descriptor only while importing. oneDNN
is disabled because its reordered float sums change output bytes between runs and machines.
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType
from typing import Any, Iterator

__all__ = ["tensorflow", "keras", "tflite_interpreter", "run_tflite"]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _quiet_fd2() -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. some test runners): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow() -> ModuleType:
    """The `tensorflow` module, imported without start-up noise and with deterministic ops."""
    if "tensorflow" not in sys.modules:
        with _quiet_fd2():
            import absl.logging
            import tensorflow as tf

            absl.logging.set_verbosity(absl.logging.ERROR)
            tf.get_logger().setLevel("ERROR")
            tf.config.experimental.enable_op_determinism()
            tf.config.list_physical_devices()  # probes CUDA now, while its C++ errors are silenced
    return sys.modules["tensorflow"]


def keras() -> ModuleType:
    """The Keras 3 module on the TensorFlow backend."""
    tensorflow()
    import keras as k

    return k


def tflite_interpreter(path: str | os.PathLike, threads: int = 1) -> object:
    """A LiteRT (TF Lite) interpreter for `path`, tensors allocated, without the XNNPACK banner.

    One thread per interpreter: callers parallelise over images, which scales better on small inputs.
    """
    from ai_edge_litert.interpreter import Interpreter

    with _quiet_fd2():
        interpreter = Interpreter(model_path=os.fspath(path), num_threads=threads)
        interpreter.allocate_tensors()
    return interpreter


def run_tflite(interpreter: Any, x: Any) -> list:
    """Run `interpreter` on one input `x` (no batch axis): its outputs, batch axis removed, in order."""
    import numpy as np

    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.asarray(x, np.float32)[None])
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"])[0] for d in interpreter.get_output_details()]
