"""Upscalers: exact output sizes, the FSRCNN port equals the original graph, bad input is refused."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from skimage import data as skdata

from facepipe._tf import tensorflow
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.upscale import fsrcnn, interpolate
from facepipe.upscale.base import resize


def _cfg(name, output_size=256, models=()):
    return SimpleNamespace(name=name, output_size=output_size, models=list(models), batch_size=4)


@pytest.fixture(scope="module")
def faces():
    """Two real 64x64 faces (the astronaut photo's face, and its mirror)."""
    face = resize(skdata.astronaut()[20:220, 140:340], 64, "bicubic")
    return np.stack([face, face[:, ::-1]])


@pytest.mark.parametrize("name", ["bilinear", "bicubic", "lanczos"])
def test_interpolators_reach_the_exact_size(name, faces):
    out = interpolate.build(_cfg(name, 200)).upscale(faces)
    assert out.shape == (2, 200, 200, 3) and out.dtype == np.uint8


def test_unknown_kernel_is_refused():
    with pytest.raises(ConfigError, match="bilinear"):
        interpolate.build(_cfg("nearest"))


def test_too_small_input_is_refused(faces):
    with pytest.raises(ConfigError, match="too small"):
        interpolate.build(_cfg("bicubic")).upscale(faces[:, :7, :7])


@pytest.fixture(scope="module")
def fsrcnn_up(models):
    return fsrcnn.build(_cfg("fsrcnn", 1024, ["fsrcnn_x4", "fsrcnn_x2"]), models)


@pytest.mark.parametrize("key, scale", [("fsrcnn_x4", 4), ("fsrcnn_x2", 2)])
def test_keras_fsrcnn_equals_the_frozen_graph(models, fsrcnn_up, key, scale):
    tf = tensorflow()
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(models.path(key).read_bytes())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph, name=""), [])
    original = wrapped.prune("IteratorGetNext:0", "NHWC_output:0")
    y = np.random.default_rng(0).random((2, 17, 23, 1)).astype(np.float32)
    expected = original(tf.constant(y)).numpy()
    got = fsrcnn_up.models[scale](y).numpy()
    assert got.shape == (2, 17 * scale, 23 * scale, 1)
    assert np.abs(got - expected).max() < 1e-5
    assert np.abs(expected).max() > 0.1  # a real, non-trivial output


def test_fsrcnn_reaches_1024_and_beats_bicubic_on_a_real_face(fsrcnn_up):
    hr = resize(skdata.astronaut()[20:276, 120:376], 256, "bicubic")  # 256x256 face crop
    lr = resize(hr, 64, "bicubic")  # area downscale (shrinking) to 64
    sr = fsrcnn.FSRCNN(models=fsrcnn_up.models, size=256).upscale(lr[None])[0]
    bicubic = resize(lr, 256, "bicubic")
    psnr = lambda a: 10 * np.log10(255**2 / np.mean((a.astype(float) - hr.astype(float)) ** 2))  # noqa: E731
    assert psnr(sr) > psnr(bicubic)
    assert fsrcnn_up.upscale(lr[None]).shape == (1, 1024, 1024, 3)


def test_plan_scales_never_overshoots():
    assert fsrcnn.plan_scales(64, 1024, (4, 2)) == [4, 4]
    assert fsrcnn.plan_scales(64, 512, (4, 2)) == [4, 2]
    assert fsrcnn.plan_scales(200, 1024, (4, 2)) == [4]
    assert fsrcnn.plan_scales(1024, 1024, (4, 2)) == []


def test_fsrcnn_loader_refuses_foreign_constants(models):
    consts, scale = fsrcnn.read_graph_constants(models.path("fsrcnn_x4"))
    with pytest.raises(CheckpointMismatch, match="surprise"):
        fsrcnn.load_graph_constants(fsrcnn.build_model(scale), {**consts, "surprise": np.zeros(1)})
    with pytest.raises(CheckpointMismatch, match="alpha3"):
        fsrcnn.load_graph_constants(fsrcnn.build_model(scale), {k: v for k, v in consts.items() if k != "alpha3"})


def test_fsrcnn_rejects_a_corrupt_graph(tmp_path):
    bad = tmp_path / "FSRCNN_x4.pb"
    bad.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointMismatch):
        fsrcnn.read_graph_constants(bad)
