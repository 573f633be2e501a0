"""Expression shading: how an expression darkens and lightens the skin, learned from photos.

A displacement field (`expressions.py`) moves skin but keeps the source's shading: a neutral source gets
none of the folds, creases and furrows that make a smile, a frown or raised brows read as one, and a
classifier that reads texture (fer) mostly does not see the expression. This module adds them: per
expression, a log-luminance residual in a canonical frontal face frame, the mean high-passed
log-luminance of faces showing that emotion minus that of neutral faces (`learn`; the committed model
is learned from CelebA with fer's probabilities as soft labels, `stages/learn_shading.py`). At render
time the residual is warped onto the source's landmarks and multiplies the texture's luminance by
exp(residual x intensity x gain) before the mesh moves it, so the creases travel with the skin.
A smiling source keeps its cheek folds under a frown: for expressions that are not smiles, the smile
shading the source carries (`ShadingModel.strength`, the least-squares amount of the smile map in its
own shading) is taken out as well.

Canonical frame: the mean mesh of the training faces, frontalised (`face.pose.face_frame`), with the
face's midline on the middle column, so a residual is made left-right symmetric by averaging it with
its mirror image (halving the noise). The inner-lip region is left at zero: an opened mouth is painted
(`mouth.paint_mouth`), and a learned smile's teeth would otherwise shine through closed lips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import cv2
import numpy as np
from scipy.spatial import Delaunay

from facepipe.errors import ConfigError
from facepipe.face.emotion import EMOTIONS, EXPECTED_EMOTION
from facepipe.face.pose import face_frame, face_plane, to_camera
from facepipe.face.regions import INNER_LIPS
from facepipe.io import atomic_write, read_npz
from facepipe.reposition.mesh.warp import triangle_labels, triangle_maps

__all__ = ["ShadingModel", "learn", "canonical_shape", "warp_triangles", "shade", "SIDE", "HIGHPASS_SIGMA"]

SIDE = 128  # canonical square, pixels
HIGHPASS_SIGMA = 10.0  # canonical pixels: slower changes (lighting, skin tone) are not the expression's
_LOG_OFFSET = 8.0  # log(I + 8): dark pixels do not blow up
LEARNED_BY = "`python -m facepipe stage learn_shading`"  # what writes the model files here
SHADED = tuple(sorted(set(EXPECTED_EMOTION.values())))  # the emotions with a residual: angry, happy, sad, surprise
# An emotion seen in fewer effective faces (sum of p^2) than this gets no map: its mean is noise
# (CelebA's first 5,000 faces hold about 11 for surprise, whose map would keep the landmarker from
# reading many renders).
MIN_FACES = 50.0
# How much of a smiling source's own smile shading comes out, per emotion, in units of its measured
# amount (`ShadingModel.strength`); 1 where not listed. Angry twice: taken out once, enough of the
# smile's folds stay under the frown to read as happy. Sad once: taking out more reads less often as sad.
UNSMILE_GAIN = {"angry": 2.0}
# Each emotion's map x this on top of the common gain (`reposition.shading_gain`); 1 where not listed.
# Sad and angry 1.5x: stronger creases read more often as that emotion, and much stronger ones leave
# renders the landmarker cannot read. A stronger smile reads no better, so it stays 1x.
MAP_GAIN = {"sad": 1.5, "angry": 1.5}


@dataclass(frozen=True)
class ShadingModel:
    """Per-emotion residual maps `[SIDE, SIDE]` in the canonical frame given by `canonical` `[468, 2]`."""

    canonical: np.ndarray
    triangles: np.ndarray
    maps: dict[str, np.ndarray]
    neutral: np.ndarray  # [SIDE, SIDE] mean high-passed log-luminance of the neutral faces (masked)
    faces: dict[str, float]  # effective number of training faces per emotion (sum of weights), mapped or not
    sigma: float = HIGHPASS_SIGMA  # the high-pass the maps were learned with

    def save(self, path: str | os.PathLike) -> None:
        with atomic_write(path) as f:
            np.savez(
                f,
                canonical=self.canonical.astype(np.float32),
                triangles=self.triangles.astype(np.int32),
                names=np.array(list(self.maps)),
                maps=np.stack(list(self.maps.values())).astype(np.float16),
                face_names=np.array(list(self.faces)),
                faces=np.array(list(self.faces.values()), np.float32),
                neutral=self.neutral.astype(np.float16),
                sigma=np.float32(self.sigma),
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ShadingModel":
        keys = ("canonical", "triangles", "names", "maps", "face_names", "faces", "neutral", "sigma")
        path, z = read_npz(path, keys, "reposition.shading", "a shading model", LEARNED_BY, "null (no shading)")
        canonical, triangles, names, maps, face_names, faces, neutral, sigma = (z[k] for k in keys)
        if canonical.shape != (468, 2) or maps.ndim != 3 or maps.shape[0] != len(names):
            raise ConfigError(
                f"reposition.shading file {str(path)!r}: canonical {canonical.shape}, maps "
                f"{maps.shape}; valid: canonical (468, 2) and one map per name"
            )
        return cls(
            canonical.astype(np.float64),
            triangles,
            {str(n): m.astype(np.float32) for n, m in zip(names, maps)},
            neutral.astype(np.float32),
            {str(n): float(f) for n, f in zip(face_names, faces)},
            float(sigma),
        )

    def strength(self, image: np.ndarray, points: np.ndarray, emotion: str) -> float:
        """How much of `emotion`'s learned shading `image` (with its mesh `points`) carries: the
        least-squares coefficient of its map in the face's high-passed log-luminance minus the neutral
        mean (0: none, 1: as much as the average face fer reads as that emotion)."""
        side = self.neutral.shape[0]
        h, _ = _highpassed(image, points, self.canonical, self.triangles, side, self.sigma)
        m = self.maps[emotion]
        return float(np.sum((h - self.neutral) * m) / max(float(np.sum(m * m)), 1e-12))

    def residuals(
        self, points: np.ndarray, shape: tuple[int, int], names: Iterable[str], gain: float = 1.0, unsmile: float = 0.0
    ) -> dict[str, np.ndarray]:
        """Expression name -> its luminance residual at intensity 1, `[H, W]` float32 on a source image
        of `shape` whose mesh is `points` `[468, 2+]` (pixels); zero off the face.

        `gain` x the expression's learned map (x `MAP_GAIN`), minus `unsmile` x the smile map (x
        `UNSMILE_GAIN`) for expressions that are not smiles: a smiling source's own folds would otherwise
        read as a smile under a frown (pass the source's `strength(..., "happy")`). Names that get neither
        are left out.
        """
        warped = {
            e: warp_triangles(m, self.canonical, points[:, :2], self.triangles, shape)[0] for e, m in self.maps.items()
        }
        out = {}
        for name in names:
            emotion = EXPECTED_EMOTION.get(name)
            if emotion is None:
                continue
            r = (
                gain * MAP_GAIN.get(emotion, 1.0) * warped[emotion]
                if emotion in warped
                else np.zeros(shape, np.float32)
            )
            if emotion != "happy" and unsmile > 0 and "happy" in warped:
                r = r - UNSMILE_GAIN.get(emotion, 1.0) * unsmile * warped["happy"]
            if r.any():
                out[name] = r.astype(np.float32)
        return out


def shade(image: np.ndarray, residual: np.ndarray, strength: float) -> np.ndarray:
    """`image` (RGB uint8) with its luminance multiplied by exp(`strength` x `residual`) (hue kept)."""
    if strength == 0:
        return image
    gain = np.exp(strength * residual.astype(np.float32))[..., None]
    out = (image.astype(np.float32) + _LOG_OFFSET) * gain - _LOG_OFFSET
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def warp_triangles(
    image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-affine warp: each triangle of `src` points (pixels in `image`) onto the same triangle at
    `dst` in an output of `shape`. Returns the output (zero outside every triangle) and its coverage mask."""
    labels = triangle_labels(shape, dst, triangles, range(len(triangles)))
    map_x, map_y = triangle_maps(labels, src, dst, triangles)
    out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    covered = labels >= 0
    return np.where(covered, out, 0).astype(image.dtype), covered


def _frontal(points: np.ndarray) -> np.ndarray:
    """`[468, 2]` (across, up) of a mesh (image space, `[468, 3]`) in face widths, centroid at 0."""
    return face_plane(to_camera(np.asarray(points, np.float64)), face_frame(points))[1]


def canonical_shape(meshes: np.ndarray, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The canonical frame of `meshes` `[N, 468, 3]`: their mean frontal shape scaled into a `side`
    square (4 px margin, midline x = 0 on the middle column, up = up), and its Delaunay triangles."""
    mean = np.mean([_frontal(m) for m in meshes], axis=0)
    scale = (side - 8) / (2 * max(np.abs(mean[:, 0]).max(), np.abs(mean[:, 1] - mean[:, 1].mean()).max()))
    canonical = np.column_stack(
        [(side - 1) / 2 + mean[:, 0] * scale, (side - 1) / 2 - (mean[:, 1] - mean[:, 1].mean()) * scale]
    )
    return canonical, Delaunay(canonical).simplices


def _highpassed(
    image: np.ndarray, points: np.ndarray, canonical: np.ndarray, triangles: np.ndarray, side: int, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    grey = np.log(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) + _LOG_OFFSET)
    warped, covered = warp_triangles(grey, points[:, :2], canonical, triangles, (side, side))
    return warped - cv2.GaussianBlur(warped, (0, 0), sigma), covered


def learn(
    faces: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    meshes: np.ndarray,
    side: int = SIDE,
    sigma: float = HIGHPASS_SIGMA,
    min_faces: float = MIN_FACES,
) -> ShadingModel:
    """Residual maps from `faces`: (RGB image, its mesh `[468, 3]`, fer's probabilities `[7]` in
    `EMOTIONS` order), streamed once; `meshes` `[N, 468, 3]` (the same faces' meshes) fix the frame.

    Each face counts towards an emotion with weight p², so confident faces dominate without a hard
    threshold. Emotions with fewer than `min_faces` effective faces get no map.
    """
    canonical, triangles = canonical_shape(meshes, side)
    rows = [EMOTIONS.index(e) for e in (*SHADED, "neutral")]
    sums = np.zeros((len(rows), side, side))
    weights = np.zeros(len(rows))
    coverage = np.zeros((side, side))
    for image, points, probs in faces:
        h, covered = _highpassed(image, points, canonical, triangles, side, sigma)
        w = np.asarray(probs, np.float64)[rows] ** 2
        sums += w[:, None, None] * h
        weights += w
        coverage += covered
    if weights[-1] < min_faces:
        raise ValueError(f"{weights[-1]:.1f} effective neutral faces; valid: at least {min_faces}")
    means = sums / np.maximum(weights, 1e-12)[:, None, None]
    mask = (coverage >= 0.99 * coverage.max()).astype(np.float32)
    mouth = np.zeros((side, side), np.uint8)
    cv2.fillPoly(mouth, [np.round(canonical[list(INNER_LIPS)]).astype(np.int32)], 1)
    mask *= 1 - cv2.dilate(mouth, np.ones((5, 5), np.uint8))
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5) * mask  # no step at the edge of the face
    maps = {}
    for i, emotion in enumerate(SHADED):
        if weights[i] < min_faces:
            continue
        r = (means[i] - means[-1]) * mask
        maps[emotion] = ((r + r[:, ::-1]) / 2).astype(np.float32)
    return ShadingModel(
        canonical,
        triangles,
        maps,
        (means[-1] * mask).astype(np.float32),
        {e: float(weights[i]) for i, e in enumerate(SHADED)},
        sigma,
    )
