"""Super-resolution quality: PSNR and SSIM on the luma (Y) channel, the field's convention (EDSR,
WDSR, SRGAN papers): BT.601 Y in [16, 235] from RGB, `scale` border pixels cropped, SSIM with an
11x11 Gaussian window (sigma 1.5). The low-resolution input is the high-resolution face downscaled
by area (`degrade`), so every method sees the same input and the original is the reference."""

from __future__ import annotations

from typing import Any, Callable

import cv2
import numpy as np

from facepipe import _tf

__all__ = ["y_channel", "degrade", "psnr_ssim_y", "square_faces", "quality", "comparison_sheet"]


def y_channel(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 `[..., 3]` -> BT.601 luma float64 in [16, 235] (MATLAB's rgb2ycbcr)."""
    rgb = np.asarray(rgb, np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """One HR image `[H, W, 3]` (H, W multiples of `scale`) -> its area-downscaled LR input."""
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"image {w}x{h} is not a multiple of scale {scale}; crop it first")
    return cv2.resize(hr, (w // scale, h // scale), interpolation=cv2.INTER_AREA)


def psnr_ssim_y(sr: np.ndarray, hr: np.ndarray, border: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-image PSNR (dB) and SSIM on Y between batches `[N, H, W, 3]` uint8, `border` px cropped."""
    tf = _tf.tensorflow()
    if sr.shape != hr.shape:
        raise ValueError(f"super-resolved {sr.shape} and reference {hr.shape} differ in shape")
    b = slice(border, -border) if border else slice(None)
    a, r = (y_channel(x)[:, b, b, None].astype(np.float32) for x in (sr, hr))
    psnr = tf.image.psnr(a, r, max_val=255.0).numpy()
    ssim = tf.image.ssim(a, r, max_val=255.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03).numpy()
    return psnr.astype(np.float64), ssim.astype(np.float64)


def square_faces(held: dict[str, np.ndarray], scale: int) -> dict[str, np.ndarray]:
    """Each set's faces cut to their largest centred square with a side divisible by `scale`
    (upscalers produce squares): UTKFace 200x200 as is, CelebA 88x108 -> 88x88."""
    out = {}
    for name, images in held.items():
        h, w = images.shape[1:3]
        side = min(h, w) // scale * scale
        y, x = (h - side) // 2, (w - side) // 2
        out[name] = images[:, y : y + side, x : x + side]
    return out


def quality(upscaler_for: Callable[[int], Any], faces: dict[str, np.ndarray], scale: int) -> dict[str, dict]:
    """Mean Y PSNR/SSIM per face set for the upscaler `upscaler_for(output side)` at x`scale`."""
    out = {}
    for name, hr in faces.items():
        lr = np.stack([degrade(h, scale) for h in hr])
        sr = upscaler_for(hr.shape[1]).upscale(lr)
        p, s = psnr_ssim_y(sr, hr, scale)
        out[name] = {"faces": len(hr), "psnr": round(float(p.mean()), 3), "ssim": round(float(s.mean()), 4)}
    return out


def comparison_sheet(upscalers: dict[str, Any], hr: np.ndarray, scale: int, crop: int = 96) -> np.ndarray:
    """Side-by-side crops (rows: faces; columns: the input enlarged by nearest neighbour, each method,
    the original) as one RGB image, for eyes-on comparison."""
    rows = []
    for face in hr:
        lr = degrade(face, scale)
        side = face.shape[0]
        y = x = max(0, (side - crop) // 2)
        cells = [cv2.resize(lr, (side, side), interpolation=cv2.INTER_NEAREST)]
        cells += [u.upscale(lr[None])[0] for u in upscalers.values()] + [face]
        rows.append(np.concatenate([c[y : y + crop, x : x + crop] for c in cells], axis=1))
    return np.concatenate(rows, axis=0)
