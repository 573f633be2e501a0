"""Figures of a reposition dataset from its labels: how close the measured pose is to the request."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from facepipe.reposition.plan import LabelRow

__all__ = ["pose_errors"]


def pose_errors(rows: Iterable[LabelRow], limits: tuple[int, ...] = (30, 60)) -> dict[str, float]:
    """Median |measured - requested| yaw and pitch (degrees) over shots with |yaw|, |pitch| <= each limit.

    Requests are absolute poses and so are measurements, so this equals |measured change - requested
    change| relative to the source. Also reports the fraction of images whose face could be measured.
    Keys: `measured_fraction`, `yaw_err_median_le{L}`, `pitch_err_median_le{L}`, `n_le{L}`.
    """
    rows = list(rows)
    out: dict[str, float] = {
        "measured_fraction": (sum(r.measured_yaw is not None for r in rows) / len(rows)) if rows else 0.0
    }
    for limit in limits:
        errs = np.array(
            [
                (abs(r.measured_yaw - r.shot.yaw), abs(r.measured_pitch - r.shot.pitch))
                for r in rows
                if r.measured_yaw is not None and abs(r.shot.yaw) <= limit and abs(r.shot.pitch) <= limit
            ]
        )
        out[f"n_le{limit}"] = float(len(errs))
        if len(errs):
            out[f"yaw_err_median_le{limit}"] = float(np.median(errs[:, 0]))
            out[f"pitch_err_median_le{limit}"] = float(np.median(errs[:, 1]))
    return out
