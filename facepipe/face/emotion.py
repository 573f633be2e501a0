"""Emotion scores from fer's FER2013 classifier (a mini-Xception; `fer_emotion` in the registry).

We run fer's own `.tflite` file on LiteRT with fer's preprocessing (grey, 64 x 64, scaled to
[-1, 1]) but crop the face from our landmarks instead of fer's Haar cascade, which misses turned
heads: the crop is the mesh's bounding square grown by 20% (fer pads its Haar box by about as much).
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from facepipe._tf import run_tflite, tflite_interpreter

__all__ = ["EmotionClassifier", "build", "EMOTIONS", "EXPECTED_EMOTION", "MODEL_NAME"]

MODEL_NAME = "fer_emotion"
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
CROP_GROWTH = 1.2
# What fer should read on a face given each of our expressions (issue 3's "Done when").
EXPECTED_EMOTION = {"smile": "happy", "laugh": "happy", "surprise": "surprise", "sad": "sad", "angry": "angry"}


class EmotionClassifier:
    """Callable: (RGB image `[H, W, 3]` uint8, its face mesh `[468, 3]`) -> scores `{emotion: p}`."""

    def __init__(self, path: str | os.PathLike):
        self._interpreter = tflite_interpreter(path)

    @staticmethod
    def crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """The grey `[64, 64]` float32 face crop in [-1, 1] that the classifier takes."""
        lo, hi = points[:, :2].min(0), points[:, :2].max(0)
        centre, side = (lo + hi) / 2, float((hi - lo).max()) * CROP_GROWTH
        scale = INPUT_SIZE / side
        to_crop = np.array(
            [[scale, 0, INPUT_SIZE / 2 - scale * centre[0]], [0, scale, INPUT_SIZE / 2 - scale * centre[1]]]
        )
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        face = cv2.warpAffine(grey, to_crop, (INPUT_SIZE, INPUT_SIZE), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return (face.astype(np.float32) / 255.0 - 0.5) * 2.0

    def __call__(self, image: np.ndarray, points: np.ndarray) -> dict[str, float]:
        scores = run_tflite(self._interpreter, self.crop(image, points)[:, :, None])[0]
        return {name: float(p) for name, p in zip(EMOTIONS, scores)}

    def top(self, image: np.ndarray, points: np.ndarray) -> str:
        """The most probable emotion's name."""
        scores = self(image, points)
        return max(scores, key=scores.get)


def build(models: Any) -> EmotionClassifier:
    """The classifier with `fer_emotion` fetched and verified through `models`."""
    return EmotionClassifier(models.path(MODEL_NAME))
