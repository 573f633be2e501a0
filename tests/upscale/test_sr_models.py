"""EDSR, WDSR-B and the SRGAN generator: built in krasserm/super-resolution's layer layout, their
weights round-trip through the published Keras 2 HDF5 layout, matched by layer name; mismatched and
corrupt files are refused with one clear line."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from facepipe.errors import CheckpointMismatch
from facepipe.models import keras2_h5
from facepipe.upscale.sr.edsr import edsr
from facepipe.upscale.sr.srgan import sr_resnet
from facepipe.upscale.sr.wdsr import wdsr_b

SMALL = {
    "edsr-x2": lambda: edsr(2, num_filters=8, num_res_blocks=2),
    "edsr-x4": lambda: edsr(4, num_filters=8, num_res_blocks=2),
    "wdsr-b-x2": lambda: wdsr_b(2, num_filters=8, num_res_blocks=2),
    "wdsr-b-x4": lambda: wdsr_b(4, num_filters=8, num_res_blocks=2),
    "srgan-x4": lambda: sr_resnet(4, num_filters=8, num_res_blocks=2),
}
LR = np.random.default_rng(0).uniform(0, 255, (2, 12, 10, 3)).astype(np.float32)


def _randomise(model, seed):
    """Seeded random weights (variances positive), so a round trip has something to prove."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        new = []
        for var, w in zip(layer.weights, layer.get_weights()):
            if w.dtype == bool:
                new.append(w)
            elif var.path.endswith("moving_variance"):
                new.append(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
            else:
                new.append((rng.standard_normal(w.shape) * 0.1).astype(w.dtype))
        layer.set_weights(new)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_weights_round_trip_through_the_published_layout(name, tmp_path):
    model = SMALL[name]()
    _randomise(model, 1)
    scale = int(name[-1])
    out = model.predict(LR, verbose=0)
    assert out.shape == (2, 12 * scale, 10 * scale, 3)
    keras2_h5.save(model, tmp_path / "weights.h5")
    fresh = SMALL[name]()
    assert not np.allclose(fresh.predict(LR, verbose=0), out)
    keras2_h5.load(fresh, tmp_path / "weights.h5")
    assert np.array_equal(fresh.predict(LR, verbose=0), out)


def test_layers_carry_the_names_a_fresh_keras2_session_gives_them():
    names = [layer.name for layer in edsr(4, num_res_blocks=16).layers if layer.weights]
    assert names == [
        "conv2d",
        *[f"conv2d_{i}" for i in range(1, 34)],
        "conv2d_1_scale_2",
        "conv2d_2_scale_2",
        "conv2d_34",
    ]
    wdsr = [layer.name for layer in wdsr_b(4, num_res_blocks=32).layers if layer.weights]
    assert wdsr[0] == "weight_normalization" and wdsr[-1] == f"weight_normalization_{1 + 3 * 32 + 1}"
    srgan = [layer.name for layer in sr_resnet().layers if layer.weights]
    assert srgan[:5] == ["conv2d", "p_re_lu", "conv2d_1", "batch_normalization", "p_re_lu_1"]
    assert srgan[-1] == "conv2d_36" and "batch_normalization_32" in srgan


def test_weights_load_by_layer_name_not_position(tmp_path):
    model = SMALL["edsr-x4"]()
    _randomise(model, 2)
    keras2_h5.save(model, tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "a") as f:  # the same layers, listed in reverse
        f.attrs["layer_names"] = list(f.attrs["layer_names"])[::-1]
    fresh = SMALL["edsr-x4"]()
    keras2_h5.load(fresh, tmp_path / "w.h5")
    assert np.array_equal(fresh.predict(LR, verbose=0), model.predict(LR, verbose=0))


def test_a_file_numbered_by_another_session_loads_in_order(tmp_path):
    """Keras 2 numbers automatic names per session: a model saved after others were built has conv2d_40..."""
    model = SMALL["wdsr-b-x2"]()
    _randomise(model, 3)
    keras2_h5.save(model, tmp_path / "w.h5")

    def renumber(n):
        if not n.startswith("weight_normalization"):
            return n
        return f"weight_normalization_{(int(n.rsplit('_', 1)[1]) if n != 'weight_normalization' else 0) + 40}"

    with h5py.File(tmp_path / "w.h5", "a") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f.attrs["layer_names"]]
        for n in names:
            f.move(n, f"tmp.{n}")
        for n in names:
            f.move(f"tmp.{n}", renumber(n))
        f.attrs["layer_names"] = [renumber(n).encode() for n in names]
    fresh = SMALL["wdsr-b-x2"]()
    keras2_h5.load(fresh, tmp_path / "w.h5")
    assert np.array_equal(fresh.predict(LR, verbose=0), model.predict(LR, verbose=0))


def test_mismatched_and_corrupt_files_are_refused(tmp_path):
    keras2_h5.save(SMALL["edsr-x4"](), tmp_path / "x4.h5")
    with pytest.raises(CheckpointMismatch, match=r"layers in the file the model lacks \['conv2d_2_scale_2'\]"):
        keras2_h5.load(SMALL["edsr-x2"](), tmp_path / "x4.h5")
    with pytest.raises(
        CheckpointMismatch, match=r"conv2d/kernel has shape \(3, 3, 3, 8\); model 'edsr' needs \(3, 3, 3, 16\)"
    ):
        keras2_h5.load(edsr(4, num_filters=16, num_res_blocks=2), tmp_path / "x4.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5" * 100)
    with pytest.raises(CheckpointMismatch, match="not a Keras 2 HDF5 weight file"):
        keras2_h5.load(SMALL["edsr-x4"](), tmp_path / "junk.h5")


@pytest.mark.parametrize("build, scale", [(edsr, 5), (wdsr_b, 8), (sr_resnet, 2)])
def test_unsupported_scales_are_named(build, scale):
    with pytest.raises(ValueError, match=f"scale={scale}; valid"):
        build(scale)
