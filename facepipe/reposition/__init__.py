"""Repositioning a person: the backend protocol (`base.py`), the shot plan (`plan.py`: the yaw x pitch
grid and the random shots), the contact sheet, the render pool that spreads shots over processes,
and the backends: `mesh/` (a warped 3D landmark mesh) and `latent.py` (walking the generator's latent).

Imports `face/`, `generate/`, `attributes/`, `models/` and below; only `stages/` and the benchmarks
import it.
"""
