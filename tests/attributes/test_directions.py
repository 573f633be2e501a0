"""Directions: fitting recovers a planted direction, locking projects it out, files round-trip, and
TL-GAN's pickles are read without running anything they reference."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from facepipe.attributes import directions as D
from facepipe.errors import ConfigError, UnsafePickleError


def _planted(n=4000, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((2, dim))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    z = rng.standard_normal((n, dim))
    scores = 1 / (1 + np.exp(-2 * z @ w.T))
    return z, scores, w


@pytest.mark.parametrize("method", ["regression", "svm"])
def test_fit_recovers_planted_directions(method):
    z, scores, w = _planted()
    d = D.fit(z, scores, ["a", "b"], method, [(0, 1), (0, 1)])
    assert d.vectors.shape == (2, 16)
    assert np.allclose(np.linalg.norm(d.vectors, axis=1), 1, atol=1e-5)
    assert d["a"] @ w[0] > 0.97 and d["b"] @ w[1] > 0.97


def test_orthogonal_to_leaves_locked_coordinates_unchanged():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((3, 10))
    d = D.orthogonal_to(a, [b, c])
    assert abs(d @ b) < 1e-5 and abs(d @ c) < 1e-5 and d @ a > 0
    with pytest.raises(ConfigError, match="span of the locked"):
        D.orthogonal_to(b, [b])


def test_save_load_round_trip(tmp_path):
    z, scores, _ = _planted(n=500)
    d = D.fit(z, scores, ["a", "b"], "regression", [(0, 1), (0, 1)])
    D.save(tmp_path / "g.npz", d)
    back = D.load(tmp_path / "g.npz")
    assert back.names == ["a", "b"] and np.array_equal(back.vectors, d.vectors)
    with pytest.raises(ConfigError, match="unknown|no direction for attribute 'c'"):
        back["c"]
    with pytest.raises(ConfigError, match="latent dimension 16, the generator has 100"):
        back.check_latent_dim(100)
    with pytest.raises(ConfigError, match="does not exist"):
        D.load(tmp_path / "missing.npz")


def write_tlgan(path, direction, names):
    """TL-GAN's format: pickle of {'direction': [D, K], 'name': [K]} (the fixture writer)."""
    path.write_bytes(pickle.dumps({"direction": direction, "name": names}, protocol=2))


def test_load_tlgan_format(tmp_path):
    rng = np.random.default_rng(2)
    direction = rng.standard_normal((512, 3)).astype(np.float32)
    write_tlgan(tmp_path / "feature_direction_test.pkl", direction, ["Male", "Smiling", "Young"])
    d = D.load_tlgan(tmp_path / "feature_direction_test.pkl")
    assert d.names == ["Male", "Smiling", "Young"] and d.latent_dim == 512
    assert np.allclose(d["Smiling"], direction[:, 1] / np.linalg.norm(direction[:, 1]), atol=1e-6)


def test_load_tlgan_wrong_shape(tmp_path):
    write_tlgan(tmp_path / "bad.pkl", np.zeros((512, 3), np.float32), ["Male", "Smiling"])
    with pytest.raises(ConfigError, match=r"shape \(512, 3\) for 2 names"):
        D.load_tlgan(tmp_path / "bad.pkl")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_load_tlgan_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"direction": _Evil(marker), "name": ["x"]}))
    with pytest.raises(UnsafePickleError, match=r"global (posix|os)\.system"):
        D.load_tlgan(tmp_path / "evil.pkl")
    assert not marker.exists()
    (tmp_path / "junk.pkl").write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(UnsafePickleError, match="not a readable pickle"):
        D.load_tlgan(tmp_path / "junk.pkl")
