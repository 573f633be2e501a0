"""The shape of a smile, learned from photos: how much a source smiles, and the mesh offsets that take it out.

A smiling source (the astronaut) has to look neutral in the grid's "neutral" shots and under a frown.
Closing the lips and lowering raised mouth corners alone leaves the rest of the smile (cheeks up, lower
lids pushed up, lips drawn back and wide), and fer reads such faces as happy under every expression.
Learned like the shading (stage `learn_shading`, the same fer-labelled faces): the smile's shape is the
mean frontal mesh of the faces fer reads as happy minus that of the neutral ones (each face weighted by
p²), `[468, 3]` in face widths. On CelebA and on UTKFace the two shapes agree (cosine 0.996).

A face's smile *amount* is the least-squares coefficient of that shape in its own frontal mesh minus the
neutral mean: about 0 for a neutral face, 1 for the average happy one (CelebA: neutral faces' median
-0.04, 90th percentile 0.42; happy 1.02; the astronaut 1.81, Grace Hopper 0.66). Neutralising takes out
the amount beyond `threshold`, the 90th percentile of the faces fer reads as neutral, so a face within the
neutral range keeps its own mouth, and the move grows continuously from there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from facepipe.errors import ConfigError
from facepipe.face.emotion import EMOTIONS
from facepipe.face.pose import face_frame, face_width, to_camera
from facepipe.face.regions import RIGID
from facepipe.io import atomic_write, read_npz
from facepipe.reposition.mesh.shading import LEARNED_BY

__all__ = ["SmileShape", "learn", "frontal"]

THRESHOLD_PERCENTILE = 90.0


def frontal(points_cam: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, float]:
    """A mesh `[468, 3]` (camera frame) as (across, up, forward) in face widths about its rigid points
    (nose bridge, eye corners: an expression does not move them), and the face width."""
    width = face_width(points_cam)
    return (points_cam - points_cam[list(RIGID)].mean(0)) @ axes / width, width


@dataclass(frozen=True)
class SmileShape:
    """Mean neutral mesh and the smile's shape, `[468, 3]` each (`frontal` coordinates), and the threshold."""

    neutral: np.ndarray
    smile: np.ndarray
    threshold: float

    def amount(self, points_cam: np.ndarray, axes: np.ndarray) -> float:
        """How much the face smiles: 0 neutral, 1 the average face fer reads as happy."""
        return self._amount(frontal(points_cam, axes)[0])

    def _amount(self, coords: np.ndarray) -> float:
        return float(np.sum((coords - self.neutral) * self.smile) / np.sum(self.smile * self.smile))

    def offsets(self, points_cam: np.ndarray, axes: np.ndarray) -> np.ndarray:
        """Camera-frame offsets `[468, 3]` that bring the face's smile amount down to `threshold`
        (zero for a face at or below it)."""
        coords, width = frontal(points_cam, axes)
        excess = self._amount(coords) - self.threshold
        if excess <= 0:
            return np.zeros_like(points_cam)
        return -excess * width * self.smile @ axes.T

    def save(self, path: str | os.PathLike) -> None:
        with atomic_write(path) as f:
            np.savez(
                f,
                neutral=self.neutral.astype(np.float32),
                smile=self.smile.astype(np.float32),
                threshold=np.float32(self.threshold),
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SmileShape":
        path, z = read_npz(
            path,
            ("neutral", "smile", "threshold"),
            "reposition.smile_shape",
            "a smile shape",
            LEARNED_BY,
            "null (close the lips only)",
        )
        neutral, smile, threshold = z["neutral"], z["smile"], float(z["threshold"])
        if neutral.shape != (468, 3) or smile.shape != (468, 3) or not np.any(smile):
            raise ConfigError(
                f"reposition.smile_shape file {str(path)!r}: neutral {neutral.shape}, smile "
                f"{smile.shape}; valid: two (468, 3) arrays, the smile not all zero"
            )
        return cls(neutral.astype(np.float64), smile.astype(np.float64), threshold)


def learn(meshes: np.ndarray, probs: np.ndarray) -> tuple[SmileShape, np.ndarray]:
    """The smile shape of faces with meshes `[N, 468, 3]` (image space, as the landmarker gives them) and
    fer's probabilities `[N, 7]` (`EMOTIONS` order), and every face's smile amount `[N]`."""
    coords = np.array([frontal(to_camera(np.asarray(m, np.float64)), face_frame(m))[0] for m in meshes])
    happy, neutral = (np.asarray(probs, np.float64)[:, EMOTIONS.index(e)] ** 2 for e in ("happy", "neutral"))
    if happy.sum() <= 0 or neutral.sum() <= 0:
        raise ValueError("no face reads as happy or none as neutral; valid: faces fer reads as both")
    neutral_mean = np.einsum("n,nkd->kd", neutral, coords) / neutral.sum()
    smile = np.einsum("n,nkd->kd", happy, coords) / happy.sum() - neutral_mean
    amounts = np.einsum("nkd,kd->n", coords - neutral_mean, smile) / np.sum(smile * smile)
    read_neutral = np.asarray(probs).argmax(1) == EMOTIONS.index("neutral")
    threshold = float(np.percentile(amounts[read_neutral], THRESHOLD_PERCENTILE)) if read_neutral.any() else 0.0
    return SmileShape(neutral_mean, smile, threshold), amounts
