"""The Keras DCGAN reproduces the PyTorch original; its loader accounts for every tensor."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from facepipe.errors import CheckpointMismatch
from facepipe.generate import from_m11, sample_latents
from facepipe.generate.dcgan import build, build_model, load_state_dict
from facepipe.models.torch_zip import load_torch_zip

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "dcgan_reference.npz"
PARITY_TOL = 1e-4  # float32, different conv algorithms; measured max |diff| ~1.6e-6


@pytest.fixture(scope="module")
def generator(models):
    return build(SimpleNamespace(model="dcgan_digiface", name="dcgan_digiface", batch_size=3), models)


def test_matches_pytorch_reference(generator):
    ref = np.load(REFERENCE)
    out = generator.forward_m11(ref["z"])  # batch_size=3 with 4 latents also exercises batching
    expected = ref["nchw"].transpose(0, 2, 3, 1)
    assert out.shape == (4, 64, 64, 3)
    assert np.abs(out - expected).max() < PARITY_TOL
    images = generator.synthesize(ref["z"])
    assert np.array_equal(images, from_m11(out))
    # float differences of ~1e-6 can flip a rounding at a .5 boundary, never more than one level
    assert np.abs(images.astype(int) - from_m11(expected)).max() <= 1


def test_synthesize_is_deterministic_uint8(generator):
    z = sample_latents(np.random.default_rng(5), 2, 100)
    a, b = generator.synthesize(z), generator.synthesize(z)
    assert a.dtype == np.uint8 and a.shape == (2, 64, 64, 3) and np.array_equal(a, b)
    with pytest.raises(ValueError, match=r"\[N, 100\]"):
        generator.synthesize(z[:, :10])


def test_sampling_is_seeded_and_truncation_bounds_latents():
    a = sample_latents(np.random.default_rng(1), 3, 100)
    b = sample_latents(np.random.default_rng(1), 3, 100)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    t = sample_latents(np.random.default_rng(1), 50, 100, truncation=1.0)
    assert np.abs(t).max() <= 1.0 and not np.array_equal(t[:3], a)


@pytest.fixture(scope="module")
def state(models):
    return load_torch_zip(models.path("dcgan_digiface"))["netG_state_dict"]


def test_loader_requires_every_tensor(state):
    model = build_model()
    missing = {k: v for k, v in state.items() if k != "main.4.running_var"}
    with pytest.raises(CheckpointMismatch, match="main.4.running_var"):
        load_state_dict(model, missing)
    extra = {**state, "main.99.weight": np.zeros(3, np.float32)}
    with pytest.raises(CheckpointMismatch, match="main.99.weight"):
        load_state_dict(model, extra)
    wrong = {**state, "main.0.weight": np.zeros((100, 256, 4, 4), np.float32)}
    with pytest.raises(CheckpointMismatch, match="shape"):
        load_state_dict(model, wrong)
