"""Person segmentation (MediaPipe's selfie model on LiteRT): which source pixels are the person.

The head proxy of the mesh warp is an ellipsoid, so around the face it also carries background;
turned, that background would be dragged along in spikes. The warp multiplies the moving layer by
this mask (warped with it), so only the person moves and the background stays put.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from facepipe._tf import run_tflite, tflite_interpreter

__all__ = ["PersonSegmenter", "build", "MODEL_NAME"]

MODEL_NAME = "mediapipe_selfie_segmentation"
INPUT_SIZE = 256


class PersonSegmenter:
    """Callable: RGB `[H, W, 3]` uint8 -> person probability `[H, W]` float32 in [0, 1]."""

    def __init__(self, path: str | os.PathLike):
        self._interpreter = tflite_interpreter(path)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        flags = cv2.INTER_AREA if max(h, w) > INPUT_SIZE else cv2.INTER_LINEAR
        x = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=flags).astype(np.float32) / 255.0
        mask = run_tflite(self._interpreter, x)[0][:, :, 0]
        return np.clip(cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def build(models: Any) -> PersonSegmenter:
    """The segmenter with its model fetched and verified through `models`."""
    return PersonSegmenter(models.path(MODEL_NAME))
