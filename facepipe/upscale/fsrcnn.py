"""The `fsrcnn` upscaler: FSRCNN x4 (and x2) from upscale-x4's frozen TF graphs, rebuilt in Keras.

FSRCNN (Dong et al., ECCV 2016) works on the luma channel: feature extraction (5x5, d filters),
shrinking (1x1, s), m mapping layers (3x3, s), expanding (1x1, d), each followed by PReLU, then a
1x1 conv to scale^2 channels, depth-to-space and a bias (graph output node `NHWC_output`). The graph
stores PReLU as `relu(x) + alpha * (x - |x|) * 0.5`, which is Keras's PReLU.

We read the graph's constants (never execute the graph) and copy them into a Keras model through an
explicit rule table (house rule 6). Chroma is upscaled bicubically, as OpenCV's dnn_superres does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from facepipe._tf import keras, tensorflow
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.upscale.base import check_batch, resize
from facepipe.upscale.sr.layers import PixelShuffle

__all__ = ["build_model", "read_graph_constants", "load_graph_constants", "FSRCNN", "plan_scales", "build"]

SCALES = (2, 4)


class _BiasAdd(keras().layers.Layer):
    """A learnable per-channel bias on its own (FSRCNN's graph adds it after the pixel shuffle)."""

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, x: Any) -> Any:
        return x + self.bias


def build_model(scale: int, d: int = 56, s: int = 12, m: int = 4) -> Any:
    """Keras FSRCNN: luma `[N, H, W, 1]` float32 in [0, 1] -> `[N, H*scale, W*scale, 1]`."""
    if scale not in SCALES:
        raise ConfigError(f"FSRCNN scale={scale!r}; supported: {list(SCALES)}")
    k = keras()
    layers = k.layers
    x = inp = k.Input((None, None, 1), name="y")
    specs = [(d, 5), (s, 1)] + [(s, 3)] * m + [(d, 1)]
    for i, (filters, size) in enumerate(specs, start=1):
        x = layers.Conv2D(filters, size, padding="same", name=f"conv{i}")(x)
        x = layers.PReLU(shared_axes=[1, 2], name=f"prelu{i}")(x)
    x = layers.Conv2D(scale * scale, 1, padding="same", use_bias=False, name=f"conv{len(specs) + 1}")(x)
    x = _BiasAdd(name="output_bias")(PixelShuffle(scale, name="depth_to_space")(x))
    return k.Model(inp, x, name=f"fsrcnn_x{scale}")


def read_graph_constants(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], int]:
    """All `Const` tensors of a frozen FSRCNN GraphDef, and its DepthToSpace block size."""
    tf = tensorflow()
    graph = tf.compat.v1.GraphDef()
    try:
        graph.ParseFromString(open(path, "rb").read())
    except Exception as e:  # protobuf's DecodeError has no stable import path
        raise CheckpointMismatch(f"{os.fspath(path)!r} is not a TensorFlow GraphDef: {e}") from None
    consts = {n.name: tf.make_ndarray(n.attr["value"].tensor) for n in graph.node if n.op == "Const"}
    blocks = [n.attr["block_size"].i for n in graph.node if n.op == "DepthToSpace"]
    if len(blocks) != 1:
        raise CheckpointMismatch(f"{os.fspath(path)!r}: expected one DepthToSpace node, found {len(blocks)}")
    return consts, blocks[0]


def load_graph_constants(model: Any, consts: dict[str, np.ndarray]) -> None:
    """Copy FSRCNN graph constants (f1.., b1.., alpha1..) into `model`; every weight and constant accounted for."""
    n_conv = sum(1 for name in consts if name.startswith("f") and name[1:].isdigit())
    rules = {f"conv{i}/kernel": f"f{i}" for i in range(1, n_conv + 1)}
    rules.update({f"conv{i}/bias": f"b{i}" for i in range(1, n_conv)})
    rules.update({f"prelu{i}/alpha": f"alpha{i}" for i in range(1, n_conv)})
    rules["output_bias/bias"] = f"b{n_conv}"
    ignored = {"NCHW_output/perm"}  # transpose for the NCHW output node, which we do not build
    for name, value in consts.items():  # the PReLU halving factor is folded into Keras's PReLU
        if name.startswith("mul_") and name.endswith("/y"):
            if float(value) != 0.5:
                raise CheckpointMismatch(f"graph constant {name!r}={float(value)}; FSRCNN's PReLU needs 0.5")
            ignored.add(name)
    used = set()
    for weight in model.weights:
        key = rules.get(weight.path)
        if key is None or key not in consts:
            raise CheckpointMismatch(f"no graph constant for Keras weight {weight.path!r} (rule: {key!r})")
        value = consts[key].reshape(tuple(weight.shape)) if key.startswith("alpha") else consts[key]
        if tuple(value.shape) != tuple(weight.shape):
            raise CheckpointMismatch(f"{key!r} -> {weight.path!r}: shape {value.shape} != {tuple(weight.shape)}")
        weight.assign(value.astype(np.float32))
        used.add(key)
    leftover = sorted(set(consts) - used - ignored)
    if leftover:
        raise CheckpointMismatch(f"graph constants not used by FSRCNN: {leftover}")


def plan_scales(side: int, size: int, available: tuple[int, ...]) -> list[int]:
    """Model passes to take `side` towards `size` without overshooting (largest scale first)."""
    plan = []
    for scale in sorted(available, reverse=True):
        while side * scale <= size:
            plan.append(scale)
            side *= scale
    return plan


@dataclass
class FSRCNN:
    """`Upscaler`: FSRCNN passes on luma (x4 first, then x2), bicubic for chroma and the last step."""

    models: dict[int, Any]
    size: int
    name: str = "fsrcnn"
    batch_size: int = 16
    _graphs: dict[int, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # One traced graph per model for any input size: ~3x faster than eager Keras calls (measured).
        tf = tensorflow()
        spec = [tf.TensorSpec([None, None, None, 1], tf.float32)]
        self._graphs = {
            s: tf.function(lambda y, m=m: m(y, training=False), input_signature=spec) for s, m in self.models.items()
        }

    def _luma_pass(self, y: np.ndarray, scale: int) -> np.ndarray:
        """`[N, h, w]` uint8 luma -> `[N, h*scale, w*scale]` uint8."""
        out = [
            self._graphs[scale](y[i : i + self.batch_size, ..., None].astype(np.float32) / 255.0).numpy()[..., 0]
            for i in range(0, len(y), self.batch_size)
        ]
        return np.clip(np.rint(np.concatenate(out) * 255.0), 0, 255).astype(np.uint8)

    def upscale(self, images: np.ndarray) -> np.ndarray:
        images = check_batch(images)
        ycc = np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2YCrCb) for im in images])
        y = ycc[..., 0]
        for scale in plan_scales(min(images.shape[1:3]), self.size, tuple(self.models)):
            y = self._luma_pass(y, scale)
        out = []
        for yi, ci in zip(y, ycc):
            chroma = resize(ci[..., 1:], (yi.shape[1], yi.shape[0]), "bicubic")
            merged = np.dstack([yi, chroma])
            out.append(resize(cv2.cvtColor(merged, cv2.COLOR_YCrCb2RGB), self.size, "bicubic"))
        return np.stack(out)


def build(cfg: Any, models: Any) -> FSRCNN:
    """Factory for `conf/upscaler/fsrcnn.yaml`: loads each graph in `cfg.models` (one per scale)."""
    if not cfg.models:
        raise ConfigError("upscaler.models is empty; fsrcnn needs e.g. [fsrcnn_x4, fsrcnn_x2]")
    nets = {}
    for key in cfg.models:
        consts, scale = read_graph_constants(models.path(key))
        net = build_model(scale, m=sum(1 for n in consts if n.startswith("f") and consts[n].shape[:2] == (3, 3)))
        load_graph_constants(net, consts)
        nets[scale] = net
    return FSRCNN(models=nets, size=cfg.output_size, name=cfg.name, batch_size=cfg.batch_size)
