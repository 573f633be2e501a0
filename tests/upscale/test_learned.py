"""Upscalers over RGB SR networks: tiling is invisible in the output, chaining reaches the size,
config errors are one line each."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import compose_cfg

from facepipe.backends import load_factory
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.models import keras2_h5
from facepipe.upscale.learned import LearnedUpscaler, tiles
from facepipe.upscale.sr.edsr import edsr

NET = "upscaler.network={name: edsr, scale: 4, filters: 8, blocks: 2}"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    net = edsr(4, num_filters=8, num_res_blocks=2)
    rng = np.random.default_rng(0)
    for layer in net.layers:
        layer.set_weights([(rng.standard_normal(w.shape) * 0.05).astype(np.float32) for w in layer.get_weights()])
    path = tmp_path_factory.mktemp("sr") / "tiny.weights.h5"
    keras2_h5.save(net, path)
    return path


def _build(models, *overrides):
    cfg = compose_cfg(["upscaler=face_sr", *overrides]).upscaler
    return load_factory(cfg._target_, "upscaler")(cfg, models)


def test_tiles_cover_each_pixel_once():
    for side, tile, overlap in [(50, 16, 4), (16, 16, 8), (17, 16, 3)]:
        parts = tiles(side, tile, overlap)
        kept = np.concatenate([np.arange(k0, k1) for _, _, k0, k1 in parts])
        assert np.array_equal(kept, np.arange(side))
        assert all(r0 <= k0 and k1 <= r1 and k0 - r0 <= overlap and r1 - k1 <= overlap for r0, r1, k0, k1 in parts)


def test_tiled_pass_matches_the_whole_image(weights, models):
    up = _build(models, f"upscaler.weights={weights}", NET, "upscaler.output_size=160")
    images = np.random.default_rng(1).integers(0, 256, (2, 40, 36, 3), dtype=np.uint8)
    whole = up._pass(images)
    tiled = LearnedUpscaler(up.network, 4, 160, "t", tile=16, overlap=12)._pass(images)
    assert whole.shape == tiled.shape == (2, 160, 144, 3)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1  # float reassociation only


@pytest.mark.parametrize("chain, passes", [("bicubic", 1), ("model", 2)])
def test_chain_reaches_the_output_size(weights, models, chain, passes, monkeypatch):
    up = _build(models, f"upscaler.weights={weights}", NET, "upscaler.output_size=256", f"upscaler.chain={chain}")
    calls = []
    original = up._pass
    monkeypatch.setattr(up, "_pass", lambda x: calls.append(x.shape) or original(x))
    out = up.upscale(np.random.default_rng(2).integers(0, 256, (1, 16, 16, 3), dtype=np.uint8))
    assert out.shape == (1, 256, 256, 3) and len(calls) == passes


def test_bad_upscaler_configs_are_one_line(weights, models, tmp_path):
    with pytest.raises(ConfigError, match=r"upscaler.network.name='vdsr'; valid: edsr, wdsr_b, srgan"):
        _build(models, f"upscaler.weights={weights}", "upscaler.network={name: vdsr}")
    with pytest.raises(ConfigError, match=r"upscaler.network.scale=2 is not supported by srgan; valid: 4"):
        _build(models, f"upscaler.weights={weights}", "upscaler.network={name: srgan, scale: 2}")
    with pytest.raises(ConfigError, match="neither a registry model nor an existing file"):
        _build(models, f"upscaler.weights={tmp_path / 'missing.h5'}", NET)
    (tmp_path / "corrupt.h5").write_bytes(b"\x89HDF\r\n" + b"garbage" * 50)
    with pytest.raises(CheckpointMismatch, match="not a Keras 2 HDF5 weight file"):
        _build(models, f"upscaler.weights={tmp_path / 'corrupt.h5'}", NET)
    with pytest.raises(ConfigError, match="upscaler.chain='twice' is invalid; valid: bicubic, model"):
        compose_cfg(["upscaler=face_sr", "upscaler.chain=twice"])
    up = _build(models, f"upscaler.weights={weights}", NET)
    with pytest.raises(ConfigError, match="too small to upscale"):
        up.upscale(np.zeros((1, 6, 6, 3), np.uint8))
