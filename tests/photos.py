"""The real face photos the tests use; both ship inside installed packages (no network, no ../shared)."""

from __future__ import annotations

import numpy as np
from matplotlib import cbook
from PIL import Image
from skimage import data


def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512 RGB (scikit-image)."""
    return data.astronaut()


def grace_hopper() -> np.ndarray:
    """Grace Hopper, 512x600 RGB (matplotlib sample data)."""
    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


PHOTOS = {"astronaut": astronaut, "grace_hopper": grace_hopper}
