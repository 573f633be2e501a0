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

Weights are copied variable by variable (house rule 6): `scaled_weights` checks every pickle variable
against G_paper's names and shapes (an unused or missing one fails, named), and `load_weights` fills
each Keras layer from the variable scope it is named after (`16x16.Conv0` <- `16x16/Conv0/weight`, `/bias`).
The Keras model runs NHWC (TensorFlow's CPU kernels); `raw` returns NCHW like the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facepipe import _tf
from facepipe.errors import CheckpointMismatch, ConfigError
from facepipe.generate.base import from_m11
from facepipe.models.pggan_pickle import NetworkState, read_networks

__all__ = ["Architecture", "PGGANGenerator", "build", "build_model", "load_weights", "architecture"]

_DEFAULTS = dict(
    num_channels=1,
    resolution=32,
    label_size=0,
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    latent_size=None,
    normalize_latents=True,
    use_wscale=True,
    use_pixelnorm=True,
    pixelnorm_epsilon=1e-8,
    use_leakyrelu=True,
)


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
    return Architecture(
        res_log2,
        int(kw["num_channels"]),
        int(latent),
        int(kw["label_size"]),
        fused,
        nf,
        bool(kw["normalize_latents"]),
        bool(kw["use_wscale"]),
        bool(kw["use_pixelnorm"]),
        float(kw["pixelnorm_epsilon"]),
        bool(kw["use_leakyrelu"]),
        float(np.asarray(lod)),
    )


def _expected_shapes(a: Architecture) -> dict[str, tuple[int, ...]]:
    """Every variable G_paper creates, with its shape (the names are the pickle's)."""
    shapes = {
        "4x4/Dense/weight": (a.latent_size + a.label_size, a.nf[1] * 16),
        "4x4/Dense/bias": (a.nf[1],),
        "4x4/Conv/weight": (3, 3, a.nf[1], a.nf[1]),
        "4x4/Conv/bias": (a.nf[1],),
    }
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
        raise CheckpointMismatch(
            f"{net.name}: variables {extra[:4]} are not part of G_paper "
            f"({'fused' if a.fused else 'non-fused'}, {2**a.resolution_log2} px)"
        )
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


def _layers():
    """G_paper's parameter-free pieces as Keras layers (built once per process)."""
    keras, tf = _tf.keras(), _tf.tensorflow()

    class PixelNorm(keras.layers.Layer):
        """x / sqrt(mean(x^2 over features) + eps): the last axis (channels, or latent components)."""

        def __init__(self, epsilon: float, **kw):
            super().__init__(**kw)
            self.epsilon = epsilon

        def call(self, x):
            return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + self.epsilon)

    class ChannelBias(keras.layers.Layer):
        """`4x4/Dense`'s bias: one value per channel, added after the reshape to 4x4."""

        def build(self, shape):
            self.bias = self.add_weight(name="bias", shape=(shape[-1],), initializer="zeros")

        def call(self, x):
            return x + self.bias

    class Lerp(keras.layers.Layer):
        """lerp_clip(img, upsampled previous image, t) with the network's fixed t."""

        def __init__(self, t: float, **kw):
            super().__init__(**kw)
            self.t = t

        def call(self, img, previous):
            return img + (previous - img) * self.t

    return PixelNorm, ChannelBias, Lerp


def build_model(a: Architecture, output_lod: int = 0):
    """G_paper as a Keras model: latents `[N, latent_size]` -> NHWC images at 2**(log2 - output_lod), [-1, 1].

    Weight layers are named after the pickle's variable scopes (`4x4.Dense`, `16x16.Conv0`,
    `ToRGB_lod2`, ...) so `load_weights` can fill them by name; weights arrive pre-scaled by the
    equalized-learning-rate constant, so every layer is a plain one."""
    keras = _tf.keras()
    L = keras.layers
    PixelNorm, ChannelBias, Lerp = _layers()

    def act_norm(x):
        x = L.LeakyReLU(0.2)(x) if a.leaky else L.ReLU()(x)
        return PixelNorm(a.epsilon)(x) if a.use_pixelnorm else x

    def torgb(x, res):
        return L.Conv2D(a.num_channels, 1, name=f"ToRGB_lod{a.resolution_log2 - res}")(x)

    z = keras.Input((a.latent_size,), name="latents")
    x = PixelNorm(a.epsilon)(z) if a.normalize_latents else z
    x = L.Dense(a.nf[1] * 16, use_bias=False, name="4x4.Dense")(x)
    x = L.Permute((2, 3, 1))(L.Reshape((a.nf[1], 4, 4))(x))  # the original reshapes to NCHW
    x = act_norm(ChannelBias(name="4x4.Dense_bias")(x))
    x = act_norm(L.Conv2D(a.nf[1], 3, padding="same", name="4x4.Conv")(x))
    images = torgb(x, 2)
    up = lambda t: L.UpSampling2D(2, interpolation="nearest")(t)  # noqa: E731
    for res in range(3, a.resolution_log2 - output_lod + 1):
        r, cout = 2**res, a.nf[res - 1]
        if a.fused:
            x = L.Conv2DTranspose(cout, 4, strides=2, padding="same", name=f"{r}x{r}.Conv0_up")(x)
        else:
            x = L.Conv2D(cout, 3, padding="same", name=f"{r}x{r}.Conv0")(up(x))
        x = act_norm(x)
        x = act_norm(L.Conv2D(cout, 3, padding="same", name=f"{r}x{r}.Conv1")(x))
        t = float(np.clip(a.lod_in - (a.resolution_log2 - res), 0.0, 1.0))
        img = torgb(x, res)
        images = img if t == 0.0 else Lerp(t)(img, up(images))
    return keras.Model(z, images, name=f"G_paper_{2 ** (a.resolution_log2 - output_lod)}")


def _fused_kernel(w: np.ndarray) -> np.ndarray:
    """`Conv0_up`'s 3x3 kernel [k, k, out, in] zero-padded to 4x4 and summed over its four shifts."""
    p = np.pad(w, [(1, 1), (1, 1), (0, 0), (0, 0)])
    return p[1:, 1:] + p[:-1, 1:] + p[1:, :-1] + p[:-1, :-1]


def load_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Fill every weight layer of `model` from the (scaled) pickle variables, by name."""
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name == "4x4.Dense_bias":
            layer.set_weights([weights["4x4/Dense/bias"]])
            continue
        scope = layer.name.replace(".", "/")
        kernel = weights[f"{scope}/weight"]
        if scope.endswith("Conv0_up"):
            kernel = _fused_kernel(kernel)
        layer.set_weights([kernel] if scope == "4x4/Dense" else [kernel, weights[f"{scope}/bias"]])


class PGGANGenerator:
    """`Generator` over a progressive-GAN pickle's `Gs` (the moving-average generator)."""

    def __init__(self, net: NetworkState, output_lod: int = 0, batch_size: int = 4, name: str = "pggan"):
        a = architecture(net)
        if a.label_size:
            raise ConfigError(f"{net.name} is conditional (label_size={a.label_size}); valid: an unconditional G_paper")
        if not 0 <= output_lod <= a.resolution_log2 - 2:
            raise ConfigError(
                f"generator.lod={output_lod} is out of range; valid: an integer in [0, {a.resolution_log2 - 2}]"
            )
        self.architecture, self.name, self.batch_size = a, name, batch_size
        self.latent_dim = a.latent_size
        self.resolution = 2 ** (a.resolution_log2 - output_lod)
        self.model = build_model(a, output_lod)
        load_weights(self.model, scaled_weights(net, a))
        self._fn = _tf.tensorflow().function(lambda z: self.model(z, training=False), reduce_retracing=True)

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
