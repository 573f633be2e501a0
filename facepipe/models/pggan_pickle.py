"""Read progressive-GAN network pickles (`karras2018iclr-*.pkl`) without TensorFlow 1 or their code.

The file is a pickled tuple `(G, D, Gs)` of `tfutil.Network` objects. Unpickling calls
`Network.__setstate__(state)` with a dict: `version` (2), `name`, `static_kwargs` (the build
function's keyword arguments), `build_module_src` (the source of `networks.py`), `build_func_name`
(`G_paper`) and `variables` (a list of `(local_name, ndarray)`). We map `tfutil.Network` to an inert
holder that only stores that dict; `build_module_src` is kept as text and never executed, and every
other global the pickle names is refused (`safe_pickle`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facepipe.errors import CheckpointMismatch
from facepipe.models import safe_pickle

__all__ = ["NetworkState", "read_networks", "STATE_KEYS"]

STATE_KEYS = ("version", "name", "static_kwargs", "build_module_src", "build_func_name", "variables")


class _NetworkHolder:
    """Stands in for `tfutil.Network` while unpickling: keeps the state dict, runs nothing."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


@dataclass(frozen=True)
class NetworkState:
    """One network of the pickle, as plain data."""

    name: str
    build_func_name: str
    static_kwargs: dict
    variables: dict[str, np.ndarray]
    build_module_sha256: str  # of the stored networks.py source (kept for provenance, never run)


_ALLOWED = {**safe_pickle.NUMPY_GLOBALS, ("tfutil", "Network"): _NetworkHolder}


def _network(holder: Any, where: str) -> NetworkState:
    if not isinstance(holder, _NetworkHolder) or not isinstance(getattr(holder, "state", None), dict):
        raise CheckpointMismatch(f"{where}: expected a tfutil.Network, got {type(holder).__name__}")
    state = holder.state
    missing = [k for k in STATE_KEYS if k not in state]
    if missing or state["version"] != 2:
        raise CheckpointMismatch(
            f"{where}: Network state version {state.get('version')!r} with keys "
            f"{sorted(state)}; valid: version 2 with {', '.join(STATE_KEYS)}"
        )
    variables = {}
    for item in state["variables"]:
        name, value = item
        if not isinstance(value, (np.ndarray, np.generic)) or not isinstance(name, str):  # 0-d ones are scalars
            raise CheckpointMismatch(f"{where}: variable {name!r} is {type(value).__name__}, not an array")
        variables[name] = np.asarray(value)
    src = state["build_module_src"]
    return NetworkState(
        name=str(state["name"]),
        build_func_name=str(state["build_func_name"]),
        static_kwargs=dict(state["static_kwargs"]),
        variables=variables,
        build_module_sha256=hashlib.sha256(str(src).encode()).hexdigest(),
    )


def read_networks(path: str | Path) -> dict[str, NetworkState]:
    """`{"G": ..., "D": ..., "Gs": ...}` from a progressive-GAN pickle.

    Raises:
        UnsafePickleError: the pickle names a global other than tfutil.Network and numpy's array rebuilders.
        CheckpointMismatch: it is not a (G, D, Gs) tuple of version-2 networks.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointMismatch(f"{str(path)!r} cannot be read: {e}") from None
    obj = safe_pickle.load(data, _ALLOWED, what=f"network pickle {path.name}")
    if not (isinstance(obj, tuple) and len(obj) == 3):
        raise CheckpointMismatch(f"{path.name}: expected a (G, D, Gs) tuple, got {type(obj).__name__}")
    return {k: _network(v, f"{path.name}[{k}]") for k, v in zip(("G", "D", "Gs"), obj)}
