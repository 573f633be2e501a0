"""The progressive-GAN loader: safe reading, the Keras/TF2 forward pass against an independent NumPy
implementation of G_paper's equations (NCHW, as the original), the full 1024 layout, tampering."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from make_pggan_pickle import write  # noqa: E402

from facepipe.errors import CheckpointMismatch, UnsafePickleError  # noqa: E402
from facepipe.generate.pggan import PGGANGenerator  # noqa: E402
from facepipe.models.pggan_pickle import read_networks  # noqa: E402

SQRT2 = np.sqrt(2)


def _conv(x, w):  # x [N, C, H, W], w [k, k, in, out], SAME, stride 1
    k = w.shape[0]
    p = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((x.shape[0], w.shape[3], x.shape[2], x.shape[3]), np.float64)
    for i in range(k):
        for j in range(k):
            out += np.einsum("nchw,co->nohw", xp[:, :, i : i + x.shape[2], j : j + x.shape[3]], w[i, j])
    return out


def _conv_up(x, w):  # fused: w [3, 3, out, in] -> padded, summed 4x4, transposed conv stride 2, SAME
    w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]
    n, c, h, wd = x.shape
    out = np.zeros((n, w.shape[2], 2 * h + 4, 2 * wd + 4))
    for kh in range(4):
        for kw in range(4):
            contrib = np.einsum("nchw,oc->nohw", x, w[kh, kw])
            out[:, :, kh : kh + 2 * h : 2, kw : kw + 2 * wd : 2] += contrib
    return out[:, :, 1 : 1 + 2 * h, 1 : 1 + 2 * wd]  # SAME: one pixel of padding before


def _reference(variables, kwargs, z):
    """G_paper in NumPy: pixel norm, wscale at run time, leaky ReLU 0.2, nearest upscale, lod blend."""
    v = {n: np.asarray(a, np.float64) for n, a in variables}
    res_log2 = int(np.log2(kwargs["resolution"]))
    nf1 = v["4x4/Dense/bias"].shape[0]

    def ws(name, gain=SQRT2, fan_in=None):
        w = v[name]
        return w * gain / np.sqrt(fan_in if fan_in is not None else np.prod(w.shape[:-1]))

    def pn(x, axis=1):
        return x / np.sqrt(np.mean(x**2, axis=axis, keepdims=True) + 1e-8)

    def act(x):
        return np.maximum(x, 0.2 * x)

    def bias(x, name):
        return x + v[name].reshape(1, -1, 1, 1)

    def up(x):
        return x.repeat(2, axis=2).repeat(2, axis=3)

    x = pn(np.asarray(z, np.float64))
    x = (x @ ws("4x4/Dense/weight", np.sqrt(2) / 4)).reshape(-1, nf1, 4, 4)
    x = pn(act(bias(x, "4x4/Dense/bias")))
    x = pn(act(bias(_conv(x, ws("4x4/Conv/weight")), "4x4/Conv/bias")))
    torgb = lambda x, lod: bias(_conv(x, ws(f"ToRGB_lod{lod}/weight", 1.0)), f"ToRGB_lod{lod}/bias")  # noqa: E731
    images = torgb(x, res_log2 - 2)
    lod_in = float(v["lod"])
    for res in range(3, res_log2 + 1):
        r, lod = 2**res, res_log2 - res
        if f"{r}x{r}/Conv0_up/weight" in v:
            w = v[f"{r}x{r}/Conv0_up/weight"]
            x = _conv_up(x, w * np.sqrt(2) / np.sqrt(9 * w.shape[3]))
            x = pn(act(bias(x, f"{r}x{r}/Conv0_up/bias")))
        else:
            x = pn(act(bias(_conv(up(x), ws(f"{r}x{r}/Conv0/weight")), f"{r}x{r}/Conv0/bias")))
        x = pn(act(bias(_conv(x, ws(f"{r}x{r}/Conv1/weight")), f"{r}x{r}/Conv1/bias")))
        img = torgb(x, lod)
        images = img + (up(images) - img) * np.clip(lod_in - lod, 0, 1)
    return images


@pytest.mark.parametrize("fused, lod", [(False, 0.0), (True, 0.0), (False, 0.4)])
def test_forward_matches_numpy_reference(tmp_path, fused, lod):
    path = write(tmp_path / "g.pkl", resolution=16, fused=fused, seed=3, lod=lod)
    nets = read_networks(path)
    gen = PGGANGenerator(nets["Gs"])
    assert gen.architecture.fused is fused and gen.resolution == 16 and gen.latent_dim == 32
    z = np.random.default_rng(0).standard_normal((3, 32)).astype(np.float32)
    ours = gen.raw(z)
    ref = _reference(list(nets["Gs"].variables.items()), nets["Gs"].static_kwargs, z)
    assert ours.shape == ref.shape == (3, 3, 16, 16)
    assert np.abs(ours - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())
    faces = gen.synthesize(z)
    assert faces.shape == (3, 16, 16, 3) and faces.dtype == np.uint8


def test_lower_lod_gives_a_smaller_image(tmp_path):
    gen = PGGANGenerator(read_networks(write(tmp_path / "g.pkl", resolution=16))["Gs"], output_lod=1)
    assert gen.synthesize(np.zeros((1, 32), np.float32)).shape == (1, 8, 8, 3)


def test_full_1024_layout_loads_and_renders(tmp_path):
    path = write(tmp_path / "celebahq.pkl", resolution=1024, fmap_base=8192, fmap_max=512, latent_size=512)
    gen = PGGANGenerator(read_networks(path)["Gs"], batch_size=1)
    assert len(read_networks(path)["Gs"].variables) == 2 * 2 + 4 * 8 + 2 * 9 + 1
    out = gen.synthesize(np.random.default_rng(1).standard_normal((1, 512)).astype(np.float32))
    assert out.shape == (1, 1024, 1024, 3)


def test_code_in_the_pickle_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    path = write(tmp_path / "g.pkl")
    nets = read_networks(path)
    assert "raise SystemExit" not in repr(nets["Gs"].variables)  # the source is kept only as a hash
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps((Evil(), Evil(), Evil())))
    with pytest.raises(
        UnsafePickleError, match=r"references global (posix|os)\.system, which is not on the allow list"
    ):
        read_networks(tmp_path / "evil.pkl")
    assert not marker.exists()


def test_tampered_pickles_are_refused(tmp_path):
    nets = read_networks(write(tmp_path / "g.pkl"))
    gs = nets["Gs"]
    bad = dict(gs.variables)
    bad["8x8/Conv1/weight"] = bad["8x8/Conv1/weight"][:, :, :3]
    with pytest.raises(
        CheckpointMismatch, match=r"'8x8/Conv1/weight' has shape \(3, 3, 3, 16\); expected \(3, 3, 16, 16\)"
    ):
        PGGANGenerator(type(gs)(gs.name, gs.build_func_name, gs.static_kwargs, bad, gs.build_module_sha256))
    missing = {k: v for k, v in gs.variables.items() if k != "ToRGB_lod0/bias"}
    with pytest.raises(CheckpointMismatch, match="'ToRGB_lod0/bias' .* is missing"):
        PGGANGenerator(type(gs)(gs.name, gs.build_func_name, gs.static_kwargs, missing, gs.build_module_sha256))
    (tmp_path / "cut.pkl").write_bytes((tmp_path / "g.pkl").read_bytes()[:500])
    with pytest.raises(UnsafePickleError, match="not a readable pickle"):
        read_networks(tmp_path / "cut.pkl")
