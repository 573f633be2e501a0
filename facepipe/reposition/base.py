"""The repositioner protocol: prepare a source face once, then render it under any shot."""

from __future__ import annotations

from typing import Any, Optional, Protocol

import numpy as np

from facepipe.face.pose import Pose
from facepipe.reposition.plan import Shot

__all__ = ["Repositioner"]


class Repositioner(Protocol):
    """Renders one face under requested head poses, gazes and expressions.

    Attributes:
        name: the config option that built it, e.g. "mesh".
    """

    name: str
    expressions: tuple[str, ...]  # the expression names it can make

    def prepare(self, image: np.ndarray, latent: Optional[np.ndarray] = None) -> Any:
        """Everything about `image` (`[H, W, 3]` uint8) that does not depend on the shot; `latent`
        is the generated person's latent (None for a photo), for backends that work in latent space.

        Raises:
            NoFaceError: no usable face in the image.
        """
        ...

    def source_pose(self, prepared: Any) -> Pose:
        """The measured absolute head pose of the prepared source."""
        ...

    def face_box(self, prepared: Any) -> tuple[int, int, int, int]:
        """A square (x0, y0, x1, y1) in source pixels around the head, for overviews."""
        ...

    def render(self, prepared: Any, shot: Shot) -> np.ndarray:
        """The face under `shot` (absolute pose, head-relative gaze, expression): `[H, W, 3]` uint8."""
        ...
