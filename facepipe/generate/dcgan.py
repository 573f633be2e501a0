"""The `dcgan_digiface` generator: gan-face-generate's 64x64 DCGAN, rebuilt in Keras.

The source is a PyTorch state dict (`netG_state_dict`) of the DCGAN tutorial generator
(nz=100, ngf=64, nc=3): four ConvTranspose2d(4x4) + BatchNorm + ReLU blocks and a ConvTranspose2d +
tanh head. We read it without torch (`models.torch_zip`) and copy it into a Keras model
tensor by tensor through an explicit rule table (house rule 6).

Layout notes: PyTorch ConvTranspose2d weights are `[in, out, kh, kw]` and Keras Conv2DTranspose
kernels `[kh, kw, out, in]` (same scatter, no flip); PyTorch's `padding=p` on a transposed conv
removes p pixels per side, which is Keras 'valid' followed by Cropping2D(p).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from facepipe._tf import keras
from facepipe.errors import CheckpointMismatch
from facepipe.generate.base import from_m11
from facepipe.models.torch_zip import load_torch_zip

__all__ = ["build_model", "load_state_dict", "DCGANGenerator", "build"]

NZ, NGF, NC = 100, 64, 3
_BLOCKS = [(NGF * 8, 1, 0), (NGF * 4, 2, 1), (NGF * 2, 2, 1), (NGF, 2, 1)]  # (filters, stride, torch padding)
_BN_EPS = 1e-5  # PyTorch's BatchNorm2d default (Keras's is 1e-3)


def build_model(nz: int = NZ, nc: int = NC) -> Any:
    """Keras DCGAN generator: latents `[N, nz]` -> images `[N, 64, 64, nc]` float32 in [-1, 1]."""
    k = keras()
    layers = k.layers
    z = k.Input((nz,), name="z")
    x = layers.Reshape((1, 1, nz))(z)
    for i, (filters, stride, pad) in enumerate(_BLOCKS):
        x = layers.Conv2DTranspose(filters, 4, strides=stride, padding="valid", use_bias=False, name=f"deconv{i}")(x)
        if pad:
            x = layers.Cropping2D(pad)(x)
        x = layers.BatchNormalization(epsilon=_BN_EPS, name=f"bn{i}")(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(nc, 4, strides=2, padding="valid", use_bias=False, name="deconv4")(x)
    x = layers.Cropping2D(1)(x)
    return k.Model(z, layers.Activation("tanh")(x), name="dcgan_generator")


def _deconv(w: np.ndarray) -> np.ndarray:
    return w.transpose(2, 3, 1, 0)  # [in, out, kh, kw] -> [kh, kw, out, in]


def _rules() -> dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """Destination weight path -> (source key, transform). torch `main.<i>` index per Sequential slot."""
    same = lambda w: w  # noqa: E731
    rules = {}
    for i in range(5):
        rules[f"deconv{i}/kernel"] = (f"main.{3 * i}.weight", _deconv)
    for i in range(4):
        src = f"main.{3 * i + 1}"
        rules[f"bn{i}/gamma"] = (f"{src}.weight", same)
        rules[f"bn{i}/beta"] = (f"{src}.bias", same)
        rules[f"bn{i}/moving_mean"] = (f"{src}.running_mean", same)
        rules[f"bn{i}/moving_variance"] = (f"{src}.running_var", same)
    return rules


_IGNORED = {f"main.{3 * i + 1}.num_batches_tracked": "training step counter; unused in eval mode" for i in range(4)}


def load_state_dict(model: Any, state: dict[str, np.ndarray]) -> None:
    """Copy a PyTorch DCGAN state dict into `model`, requiring every weight and every source key.

    Raises:
        CheckpointMismatch: a destination weight has no source, a source key is unused, or shapes differ.
    """
    rules = _rules()
    used = set(_IGNORED)
    for weight in model.weights:
        if weight.path not in rules:
            raise CheckpointMismatch(f"no loading rule for Keras weight {weight.path!r}")
        key, transform = rules[weight.path]
        if key not in state:
            raise CheckpointMismatch(f"checkpoint lacks {key!r} (for {weight.path!r})")
        value = transform(np.asarray(state[key], np.float32))
        if tuple(value.shape) != tuple(weight.shape):
            raise CheckpointMismatch(
                f"{key!r} -> {weight.path!r}: shape {tuple(value.shape)} != expected {tuple(weight.shape)}"
            )
        weight.assign(value)
        used.add(key)
    leftover = sorted(set(state) - used)
    if leftover:
        raise CheckpointMismatch(f"checkpoint keys not used by the DCGAN generator: {leftover}")


@dataclass
class DCGANGenerator:
    """`Generator` backed by the Keras DCGAN."""

    model: Any
    name: str = "dcgan_digiface"
    latent_dim: int = NZ
    resolution: int = 64
    batch_size: int = 64

    def synthesize(self, z: np.ndarray) -> np.ndarray:
        """Latents `[N, 100]` float32 -> faces `[N, 64, 64, 3]` uint8."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"`z` must be [N, {self.latent_dim}]; got shape {z.shape}")
        return from_m11(self.forward_m11(z))

    def forward_m11(self, z: np.ndarray) -> np.ndarray:
        """Raw generator output `[N, 64, 64, 3]` float32 in [-1, 1] (for parity tests and editing)."""
        parts = [
            self.model(z[i : i + self.batch_size], training=False).numpy() for i in range(0, len(z), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 64, 64, 3), np.float32)


def build(cfg: Any, models: Any) -> DCGANGenerator:
    """Factory named in `conf/generator/dcgan_digiface.yaml`: fetch, verify and load the weights."""
    checkpoint = load_torch_zip(models.path(cfg.model))
    if "netG_state_dict" not in checkpoint:
        raise CheckpointMismatch(f"model {cfg.model!r} has no 'netG_state_dict'; keys: {sorted(checkpoint)}")
    model = build_model()
    load_state_dict(model, checkpoint["netG_state_dict"])
    return DCGANGenerator(model=model, name=cfg.name, batch_size=cfg.batch_size)
