"""The progressive-GAN generator (`G_paper`, Karras et al. ICLR 2018) rebuilt in Keras from a pickle.

Everything is derived from the pickle's `static_kwargs` and variable shapes: the resolution, the
feature-map counts `nf(stage) = min(fmap_base / 2**(stage * fmap_decay), fmap_max)`, and whether
the 8x8-and-up blocks upsample by nearest-neighbour + conv (`{r}x{r}/Conv0`, the released
CelebA-HQ file) or by the later code's fused transposed conv (`{r}x{r}/Conv0_up`). The equations:

- latents pixel-normalised: z * rsqrt(mean(z^2) + eps);
- equalized learning rate: every weight is multiplied at run time by gain / sqrt(fan_in) (He),
  gain sqrt(2) except `4x4/Dense` (sqrt(2) / 4) and `ToRGB_lod*` (1);
- `4x4/Dense` -> reshape [N, nf(1), 4, 4] (NCHW order) -> bias -> leaky ReLU(0.2) -> pixel norm,
  then `4x4/Conv` 3x3; each higher block: upsample x2 + `Conv0` 3x3 (or fused `Conv0_up`), `Conv1`
  3x3, each conv followed by bias, leaky ReLU and pixel norm;
- fused `Conv0_up`: the 3x3 kernel [k, k, out, in] zero-padded to 4x4 and summed over its four
  shifts, applied as a stride-2 transposed conv;
- output: `ToRGB_lod{l}` (1x1) of each level, blended with the upsampled lower level by
  clip(lod_in - l, 0, 1) (the training-time `lod` variable; 0 in a finished network), NCHW, [-1, 1].

Weights are copied variable by variable through `_rules` (house rule 6): every variable of the
pickle must be used and every weight must be filled, or loading fails naming the culprit.
Computation runs in NHWC (TensorFlow's CPU kernels); `raw` returns NCHW like the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facepipe import _tf
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.generate.base import from_m11
from facepipe.models.pggan_pickle import NetworkState, read_networks

__all__ = ["Architecture", "PGGANGenerator", "build", "architecture"]

_DEFAULTS = dict(num_channels=1, resolution=32, label_size=0, fmap_base=8192, fmap_decay=1.0, fmap_max=512,
                 latent_size=None, normalize_latents=True, use_wscale=True, use_pixelnorm=True,
                 pixelnorm_epsilon=1e-8, use_leakyrelu=True)


@dataclass(frozen=True)
class Architecture:
    resolution_log2: int
    num_channels: int
    latent_size: int
    label_size: int
    fused: bool
    nf: tuple[int, ...]  # nf[stage] for stage 0..resolution_log2
    normalize_latents: bool
    use_wscale: bool
    use_pixelnorm: bool
    epsilon: float
    leaky: bool
    lod_in: float


def architecture(net: NetworkState) -> Architecture:
    """The generator's shape from its static kwargs, checked against its variables."""
    if net.build_func_name != "G_paper":
        raise CheckpointMismatch(f"network {net.name!r} was built by {net.build_func_name!r}; valid: G_paper")
    kw = {**_DEFAULTS, **{k: v for k, v in net.static_kwargs.items() if k in _DEFAULTS}}
    res_log2 = int(np.log2(kw["resolution"]))
    if 2**res_log2 != kw["resolution"] or res_log2 < 2:
        raise CheckpointMismatch(f"resolution {kw['resolution']} is not a power of two >= 4")
    nf = tuple(min(int(kw["fmap_base"] / (2.0 ** (s * kw["fmap_decay"]))), kw["fmap_max"]) for s in range(res_log2 + 1))
    latent = kw["latent_size"] if kw["latent_size"] is not None else nf[0]
    fused = any(name.endswith("/Conv0_up/weight") for name in net.variables)
    lod = net.variables.get("lod", np.float32(0.0))
    return Architecture(res_log2, int(kw["num_channels"]), int(latent), int(kw["label_size"]), fused, nf,
                        bool(kw["normalize_latents"]), bool(kw["use_wscale"]), bool(kw["use_pixelnorm"]),
                        float(kw["pixelnorm_epsilon"]), bool(kw["use_leakyrelu"]), float(np.asarray(lod)))


def _expected_shapes(a: Architecture) -> dict[str, tuple[int, ...]]:
    """Every variable G_paper creates, with its shape (the names are the pickle's)."""
    shapes = {"4x4/Dense/weight": (a.latent_size + a.label_size, a.nf[1] * 16), "4x4/Dense/bias": (a.nf[1],),
              "4x4/Conv/weight": (3, 3, a.nf[1], a.nf[1]), "4x4/Conv/bias": (a.nf[1],)}
    for res in range(3, a.resolution_log2 + 1):
        r, cin, cout = 2**res, a.nf[res - 2], a.nf[res - 1]
        if a.fused:
            shapes[f"{r}x{r}/Conv0_up/weight"] = (3, 3, cout, cin)
            shapes[f"{r}x{r}/Conv0_up/bias"] = (cout,)
        else:
            shapes[f"{r}x{r}/Conv0/weight"] = (3, 3, cin, cout)
            shapes[f"{r}x{r}/Conv0/bias"] = (cout,)
        shapes[f"{r}x{r}/Conv1/weight"] = (3, 3, cout, cout)
        shapes[f"{r}x{r}/Conv1/bias"] = (cout,)
    for res in range(2, a.resolution_log2 + 1):
        lod = a.resolution_log2 - res
        shapes[f"ToRGB_lod{lod}/weight"] = (1, 1, a.nf[res - 1], a.num_channels)
        shapes[f"ToRGB_lod{lod}/bias"] = (a.num_channels,)
    return shapes


def _gain(name: str) -> float:
    if name.startswith("4x4/Dense"):
        return float(np.sqrt(2) / 4)
    return 1.0 if name.startswith("ToRGB") else float(np.sqrt(2))


def _fan_in(name: str, shape: tuple[int, ...]) -> int:
    if name.endswith("Conv0_up/weight"):  # [k, k, out, in]: the fan-in is k * k * in
        return shape[0] * shape[1] * shape[3]
    return int(np.prod(shape[:-1]))


def scaled_weights(net: NetworkState, a: Architecture) -> dict[str, np.ndarray]:
    """The pickle's variables checked against G_paper's names and shapes, weights pre-multiplied by
    their equalized-learning-rate constant (the graph applied it at run time; the product is the same)."""
    expected = _expected_shapes(a)
    extra = sorted(set(net.variables) - set(expected) - {"lod"})
    if extra:
        raise CheckpointMismatch(f"{net.name}: variables {extra[:4]} are not part of G_paper "
                                 f"({'fused' if a.fused else 'non-fused'}, {2**a.resolution_log2} px)")
    out = {}
    for name, shape in expected.items():
        if name not in net.variables:
            raise CheckpointMismatch(f"{net.name}: variable {name!r} {shape} is missing")
        value = np.asarray(net.variables[name], np.float32)
        if value.shape != shape:
            raise CheckpointMismatch(f"{net.name}: variable {name!r} has shape {value.shape}; expected {shape}")
        if name.endswith("/weight") and a.use_wscale:
            value = value * np.float32(_gain(name) / np.sqrt(_fan_in(name, shape)))
        out[name] = value
    return out


class _Synthesis:
    """G_paper's forward pass in TensorFlow ops over a fixed weight table (NHWC inside)."""

    def __init__(self, weights: dict[str, np.ndarray], a: Architecture, output_lod: int):
        tf = _tf.tensorflow()
        self.tf, self.a, self.output_lod = tf, a, output_lod
        self.w = {k: tf.constant(v) for k, v in weights.items()}

    def _pn(self, x):
        tf, a = self.tf, self.a
        return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + a.epsilon) if a.use_pixelnorm else x

    def _act(self, x):
        return self.tf.maximum(x * 0.2, x) if self.a.leaky else self.tf.nn.relu(x)

    def _conv(self, x, name):
        return self.tf.nn.conv2d(x, self.w[f"{name}/weight"], 1, "SAME") + self.w[f"{name}/bias"]

    def _up(self, x):
        return self.tf.repeat(self.tf.repeat(x, 2, axis=1), 2, axis=2)

    def _conv_up(self, x, name):
        tf = self.tf
        w = tf.pad(self.w[f"{name}/weight"], [[1, 1], [1, 1], [0, 0], [0, 0]])
        w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]
        s = tf.shape(x)
        out = [s[0], s[1] * 2, s[2] * 2, w.shape[2]]
        return tf.nn.conv2d_transpose(x, w, out, 2, "SAME") + self.w[f"{name}/bias"]

    def _block(self, x, res):
        a, tf = self.a, self.tf
        if res == 2:
            if a.normalize_latents:
                x = x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True) + a.epsilon)
            x = tf.matmul(x, self.w["4x4/Dense/weight"])
            x = tf.transpose(tf.reshape(x, [-1, a.nf[1], 4, 4]), [0, 2, 3, 1]) + self.w["4x4/Dense/bias"]
            x = self._pn(self._act(x))
            return self._pn(self._act(self._conv(x, "4x4/Conv")))
        r = 2**res
        x = self._pn(self._act(self._conv_up(x, f"{r}x{r}/Conv0_up") if a.fused else self._conv(self._up(x), f"{r}x{r}/Conv0")))
        return self._pn(self._act(self._conv(x, f"{r}x{r}/Conv1")))

    def _torgb(self, x, res):
        lod = self.a.resolution_log2 - res
        return self.tf.nn.conv2d(x, self.w[f"ToRGB_lod{lod}/weight"], 1, "VALID") + self.w[f"ToRGB_lod{lod}/bias"]

    def __call__(self, z):
        """Latents `[N, latent_size]` -> images NHWC at 2**(resolution_log2 - output_lod), [-1, 1]."""
        a, tf = self.a, self.tf
        x = self._block(tf.convert_to_tensor(z, tf.float32), 2)
        images = self._torgb(x, 2)
        for res in range(3, a.resolution_log2 - self.output_lod + 1):
            lod = a.resolution_log2 - res
            x = self._block(x, res)
            t = float(np.clip(a.lod_in - lod, 0.0, 1.0))
            img = self._torgb(x, res)
            images = img if t == 0.0 else img + (self._up(images) - img) * t  # lerp_clip(img, up(prev), lod_in - lod)
        return images


class PGGANGenerator:
    """`Generator` over a progressive-GAN pickle's `Gs` (the moving-average generator)."""

    def __init__(self, net: NetworkState, output_lod: int = 0, batch_size: int = 4, name: str = "pggan"):
        a = architecture(net)
        if a.label_size:
            raise ConfigError(f"{net.name} is conditional (label_size={a.label_size}); valid: an unconditional G_paper")
        if not 0 <= output_lod <= a.resolution_log2 - 2:
            raise ConfigError(f"generator.lod={output_lod} is out of range; valid: an integer in [0, {a.resolution_log2 - 2}]")
        self.architecture, self.name, self.batch_size = a, name, batch_size
        self.latent_dim = a.latent_size
        self.resolution = 2 ** (a.resolution_log2 - output_lod)
        self._synthesis = _Synthesis(scaled_weights(net, a), a, output_lod)
        self._fn = _tf.tensorflow().function(self._synthesis, reduce_retracing=True)

    def raw(self, z: np.ndarray) -> np.ndarray:
        """The network's own output: `[N, C, R, R]` float32 (NCHW), nominally [-1, 1]."""
        return np.asarray(self._fn(np.asarray(z, np.float32))).transpose(0, 3, 1, 2)

    def synthesize(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32)
        out = [np.asarray(self._fn(z[i : i + self.batch_size])) for i in range(0, len(z), self.batch_size)]
        images = np.concatenate(out) if out else np.zeros((0, self.resolution, self.resolution, 3), np.float32)
        return from_m11(images)


def build(cfg: Any, models: Any) -> PGGANGenerator:
    """Factory named by `conf/generator/pggan_celebahq.yaml`: the registry's pickle, its `Gs`."""
    networks = read_networks(models.path(cfg.model))
    return PGGANGenerator(networks["Gs"], int(getattr(cfg, "lod", 0) or 0), cfg.batch_size, cfg.name)
