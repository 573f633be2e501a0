"""Two real face photos that ship inside installed packages: tests and benchmarks use them offline."""

from __future__ import annotations

import numpy as np

from facepipe.errors import ConfigError

__all__ = ["astronaut", "grace_hopper", "PHOTOS"]


def astronaut() -> np.ndarray:
    """Eileen Collins, 512x512 RGB (scikit-image's sample data; `pip install scikit-image`)."""
    try:
        from skimage import data
    except ImportError:
        raise ConfigError('the astronaut photo comes with scikit-image; valid: pip install -e ".[dev]"') from None
    return data.astronaut()


def grace_hopper() -> np.ndarray:
    """Grace Hopper, 512x600 RGB (matplotlib's sample data)."""
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


PHOTOS = {"astronaut": astronaut, "grace_hopper": grace_hopper}
