"""The latent repositioner: roll sign, refusals, and (with the committed directions) closed-loop pose."""

from __future__ import annotations

import numpy as np
import pytest

from facepipe.errors import ConfigError
from facepipe.reposition import latent
from facepipe.reposition.plan import Shot


def test_roll_is_clockwise_for_positive_degrees():
    image = np.zeros((65, 65, 3), np.uint8)
    image[5:60, 31:34] = 255  # a vertical bar through the centre
    turned = latent._roll(image, 20.0)
    top = np.nonzero(turned[10, :, 0] > 128)[0].mean()
    bottom = np.nonzero(turned[54, :, 0] > 128)[0].mean()
    assert top > 32 > bottom  # clockwise in the image: the top moves right


@pytest.fixture(scope="module")
def backend(models):
    from facepipe.cli import compose
    from facepipe.config_loader import load

    cfg = load(compose(["tracking=none", "reposition=latent"]))
    return latent.build(cfg.reposition, models, cfg)


def test_photos_and_unknown_expressions_are_refused(backend):
    with pytest.raises(ConfigError, match="needs a generated person's latent; valid: reposition=mesh"):
        backend.prepare(np.zeros((64, 64, 3), np.uint8), None)
    with pytest.raises(ConfigError, match="cannot make expression 'wink'"):
        backend._expression(np.zeros(backend.generator.latent_dim, np.float32), "wink", 1.0)


def test_closed_loop_reaches_a_requested_yaw(backend, landmarker):
    from facepipe.generate import sample_latents

    z = sample_latents(np.random.default_rng(0), 12, backend.generator.latent_dim)
    faces = backend.generator.synthesize(z)
    poses = [landmarker.pose(f) for f in faces]
    i = next(i for i, p in enumerate(poses) if p is not None and abs(p.yaw) < 10 and abs(p.pitch) < 20)
    shot = Shot("t", "grid", 15.0, round(poses[i].pitch))  # a turn in yaw; the face keeps its pitch
    prepared = backend.prepare(faces[i], z[i])
    out = backend.render(prepared, shot)
    got = landmarker.pose(out)
    assert got is not None and abs(got.yaw - 15.0) <= 4.0, got
    assert out.shape == faces[i].shape and not np.array_equal(out, faces[i])
    assert np.array_equal(out, backend.render(prepared, shot))  # deterministic
