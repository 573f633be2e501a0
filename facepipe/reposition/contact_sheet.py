"""A contact sheet: the whole dataset of one person as one overview image, built tile by tile.

The grid shots fill a yaw x pitch block (yaw left to right, pitch top = up to bottom = down, as a
viewer would lay them out); the random shots follow in rows of the same width. The canvas is
allocated once from the plan and each image is pasted as it is produced, so nothing but the sheet
itself is held in memory.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from facepipe.reposition.plan import Shot

__all__ = ["ContactSheet"]

MAX_SIDE = 4096  # pixels: tiles shrink so the sheet stays loggable


class ContactSheet:
    """Paste shots as they come; `image` is the sheet so far (background where not yet pasted)."""

    def __init__(self, shots: list[Shot], tile: int = 96, gap: int = 2, crop: tuple[int, int, int, int] | None = None):
        """`crop` (x0, y0, x1, y1): the part of every image to show (the face, in a large photo)."""
        self.crop = crop
        grid = [s for s in shots if s.kind == "grid"]
        self.yaws = sorted({s.yaw for s in grid})
        self.pitches = sorted({s.pitch for s in grid}, reverse=True)
        self.columns = len(self.yaws) or max(1, min(len(shots), 10))
        grid_rows = len(self.pitches)
        n_random = len(shots) - len(grid)
        rows = grid_rows + math.ceil(n_random / self.columns) + (1 if grid_rows and n_random else 0)
        self.tile = max(16, min(tile, (MAX_SIDE - gap) // max(self.columns, rows) - gap))
        self.gap = gap
        self._slots: dict[str, tuple[int, int]] = {}
        for s in grid:
            self._slots[s.name] = (self.pitches.index(s.pitch), self.yaws.index(s.yaw))
        first = grid_rows + (1 if grid_rows and n_random else 0)  # one empty row between the blocks
        for k, s in enumerate(x for x in shots if x.kind != "grid"):
            self._slots[s.name] = (first + k // self.columns, k % self.columns)
        step = self.tile + gap
        self.image = np.full((gap + rows * step, gap + self.columns * step, 3), 255, np.uint8)

    def paste(self, shot: Shot, image: np.ndarray) -> None:
        row, col = self._slots[shot.name]
        if self.crop is not None:
            x0, y0, x1, y1 = self.crop
            image = image[max(y0, 0) : y1, max(x0, 0) : x1]
        y, x = self.gap + row * (self.tile + self.gap), self.gap + col * (self.tile + self.gap)
        h, w = image.shape[:2]
        scale = self.tile / max(h, w)  # fit, keeping the aspect ratio; centred in the tile
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        y, x = y + (self.tile - th) // 2, x + (self.tile - tw) // 2
        self.image[y : y + th, x : x + tw] = cv2.resize(image, (tw, th), interpolation=interpolation)
