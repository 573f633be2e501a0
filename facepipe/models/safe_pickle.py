"""Read foreign pickles without running their code: only allow-listed globals are ever resolved.

`pickle.load` calls whatever global a pickle names (`os.system` included). `load` resolves each
global through an explicit table instead, so a pickle can only build plain containers, numpy arrays
and the inert holders a caller maps in; anything else fails before it is called.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, Callable, Mapping

import numpy as np

from facepipe.errors import UnsafePickleError

__all__ = ["load", "NUMPY_GLOBALS"]


def _reconstruct(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
    """`numpy.core.multiarray._reconstruct`, limited to plain ndarrays (state arrives by __setstate__)."""
    if cls is not np.ndarray:
        raise UnsafePickleError(f"array reconstruction of {cls!r} refused; only numpy.ndarray is allowed")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _scalar(dtype: np.dtype, data: bytes = b"") -> Any:
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _frombuffer(buf: bytes, dtype: np.dtype, shape: tuple, order: str) -> np.ndarray:
    """`numpy.core.numeric._frombuffer`, which protocol-5 pickles of arrays use."""
    if order not in ("C", "F"):
        raise UnsafePickleError(f"array order {order!r} refused")
    return np.frombuffer(bytes(buf), dtype=np.dtype(dtype)).reshape(shape, order=order).copy()


def _encode(text: str, encoding: str = "latin1") -> bytes:
    """`_codecs.encode`, which protocol-2 pickles use to carry bytes (the raw data of arrays)."""
    if encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"_codecs.encode with encoding {encoding!r} refused; only latin1 is allowed")
    return text.encode("latin1")


# numpy 1.x pickles name numpy.core.multiarray, numpy 2.x numpy._core.multiarray.
NUMPY_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    **{(m, "_reconstruct"): _reconstruct for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "scalar"): _scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "_frombuffer"): _frombuffer for m in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _encode,
}


class _Restricted(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: Mapping[tuple[str, str], Any], what: str) -> None:
        super().__init__(io.BytesIO(data), encoding="latin1")  # latin1: Python 2 pickles' byte strings
        self._allowed, self._what = allowed, what

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._what} references global {module}.{name}, which is not on the allow list "
                f"({', '.join(sorted(f'{m}.{n}' for m, n in self._allowed))}); refusing to load it"
            ) from None


def load(data: bytes, allowed: Mapping[tuple[str, str], Any] | None = None, what: str = "pickle") -> Any:
    """Unpickle `data` resolving globals only through `allowed` (default: numpy arrays only).

    Raises:
        UnsafePickleError: the pickle names a global outside `allowed`, or is not a valid pickle.
    """
    try:
        return _Restricted(data, NUMPY_GLOBALS if allowed is None else allowed, what).load()
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated or garbled bytes
        raise UnsafePickleError(f"{what} is not a readable pickle: {type(e).__name__}: {e}") from None
