"""Keras 2 `save_weights` HDF5 files, read and written by layer name (legacy.py's way: explicit,
variable by variable).

Layout (tf.keras 2.x `save_weights('x.h5')`): the root's attribute `layer_names` lists every layer
of the model in order; the group `<layer>` has attribute `weight_names` (e.g. `conv2d/kernel:0`) and
one dataset per weight at `<layer>/<weight name>`. Published SR weights (krasserm/super-resolution)
use it. Keras 3 reads these only by position; we match by layer name, then each weight by its own
name (`kernel`, `bias`, `g`, `gamma`, ...), check every shape, and fail on anything unmatched.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from facepipe.errors import CheckpointMismatch

__all__ = ["save", "load", "read"]

log = logging.getLogger(__name__)


def _short(weight_name: str) -> str:
    """`weight_normalization/conv2d/kernel:0` -> `kernel`; a Keras 3 path `conv2d/kernel` -> `kernel`."""
    return re.sub(r":\d+$", "", weight_name).rsplit("/", 1)[-1]


def save(model: Any, path: str | Path) -> None:
    """Write `model`'s weights in the Keras 2 layout (what the published files look like)."""
    import h5py

    from facepipe.io import atomic_write

    with atomic_write(path) as out, h5py.File(out, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"], f.attrs["keras_version"] = b"tensorflow", b"2.15.0"
        for layer in model.layers:
            g = f.create_group(layer.name)
            names = [f"{layer.name}/{_short(w.path if hasattr(w, 'path') else w.name)}:0" for w in layer.weights]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, w in zip(names, layer.get_weights()):
                g.create_dataset(n, data=w)


def read(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """`{layer name: {weight short name: array}}` for every layer with weights, in file order."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            f = f["model_weights"] if "model_weights" in f else f  # a full-model .h5 keeps them here
            out = {}
            for layer in [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]:
                names = [n.decode() if isinstance(n, bytes) else n for n in f[layer].attrs["weight_names"]]
                if names:
                    out[layer] = {_short(n): np.asarray(f[layer][n]) for n in names}
            return out
    except (OSError, KeyError) as e:
        raise CheckpointMismatch(
            f"{path.name}: not a Keras 2 HDF5 weight file ({e}); valid: a file written by "
            "save_weights('*.h5'), e.g. krasserm's weights-edsr-16-x4/weights.h5"
        ) from None


def _stem(layer_name: str) -> str:
    """`conv2d_17` -> `conv2d`: the class part of a Keras 2 automatic name."""
    return re.sub(r"_\d+$", "", layer_name)


def _renumbered(ours: list, stored: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]] | None:
    """The file's layers keyed by our names when they differ only in automatic numbering (a file saved
    in a session that had built other layers first): same count, order, kinds and shapes. Else None."""
    theirs = list(stored.items())
    if len(theirs) != len(ours):
        return None
    out = {}
    for layer, (name, weights) in zip(ours, theirs):
        shapes = sorted(tuple(w.shape) for w in layer.weights)
        if _stem(layer.name) != _stem(name) or shapes != sorted(tuple(v.shape) for v in weights.values()):
            return None
        out[layer.name] = weights
    return out


def load(model: Any, path: str | Path) -> None:
    """Fill every weight layer of `model` from the file by layer name and weight name; shapes must match,
    no layer of either side may be left over. A file whose layer names differ only in Keras 2's automatic
    numbering (`conv2d_17` for our `conv2d`) is matched in order, kind by kind, shape by shape."""
    stored = read(path)
    ours = [layer for layer in model.layers if layer.weights]
    missing = [layer.name for layer in ours if layer.name not in stored]
    unused = sorted(set(stored) - {layer.name for layer in ours})
    renamed = _renumbered(ours, stored) if missing or unused else None
    if renamed is not None:
        log.info(
            "%s: layer names numbered differently (%s -> %s); matched in order by kind and shape",
            Path(path).name,
            next(iter(stored)),
            ours[0].name,
        )
        stored, missing, unused = renamed, [], []
    if missing or unused:
        raise CheckpointMismatch(
            f"{Path(path).name} does not fit model {model.name!r}: layers missing from the file {missing[:4]}, "
            f"layers in the file the model lacks {unused[:4]}; valid: weights saved from the same architecture "
            "(model, scale, number of blocks and filters)"
        )
    for layer in ours:
        weights = stored[layer.name]
        values = []
        for w in layer.weights:
            key = _short(w.path if hasattr(w, "path") else w.name)
            if key not in weights:
                raise CheckpointMismatch(
                    f"{Path(path).name}: layer {layer.name!r} has no weight {key!r} (it has {sorted(weights)})"
                )
            value = weights[key]
            if tuple(value.shape) != tuple(w.shape):
                raise CheckpointMismatch(
                    f"{Path(path).name}: {layer.name}/{key} has shape {value.shape}; "
                    f"model {model.name!r} needs {tuple(w.shape)}"
                )
            values.append(value)
        if len(weights) != len(values):
            raise CheckpointMismatch(
                f"{Path(path).name}: layer {layer.name!r} holds weights "
                f"{sorted(set(weights) - {_short(w.path) for w in layer.weights})} the model lacks"
            )
        layer.set_weights(values)
