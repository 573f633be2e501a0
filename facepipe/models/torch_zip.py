"""Read a PyTorch zip checkpoint (`torch.save`, format >= 1.6) into numpy, without torch.

The checkpoint is a zip holding `<prefix>/data.pkl` (the object tree), `<prefix>/data/<key>` (raw
little-endian storages) and `<prefix>/byteorder`. The pickle is read with a restricted unpickler:
only the handful of globals a plain state dict needs are allowed, each mapped to an inert numpy
equivalent; any other global raises `UnsafePickleError` before anything runs (house rule 8).
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from typing import Any

import numpy as np

from facepipe.errors import CheckpointMismatch, UnsafePickleError

__all__ = ["load_torch_zip"]

# torch storage class -> numpy dtype of its elements.
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stand-in for `torch.<X>Storage`: only remembers the element dtype."""

    def __init__(self, dtype: type) -> None:
        self.dtype = np.dtype(dtype)


def _rebuild_tensor_v2(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_unused: Any) -> np.ndarray:
    """numpy version of `torch._utils._rebuild_tensor_v2`: a strided view, copied to own its memory."""
    itemsize = storage.dtype.itemsize
    if not size:
        return storage[offset].copy()
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride), writeable=False
    )
    return np.array(view)


def _rebuild_parameter(data: np.ndarray, *_unused: Any) -> np.ndarray:
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(dtype) for name, dtype in _STORAGE_DTYPES.items()},
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, byteorder: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix, self._byteorder = archive, prefix, byteorder

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"checkpoint references global {module}.{name}, which is not on the allow list "
                f"({', '.join(sorted(f'{m}.{n}' for m, n in _ALLOWED))}); refusing to load it"
            ) from None

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnsafePickleError(f"unexpected persistent id {pid!r} in torch checkpoint")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise UnsafePickleError(f"persistent id names a non-storage type {storage_type!r}")
        raw = self._archive.read(f"{self._prefix}/data/{key}")
        dtype = storage_type.dtype.newbyteorder("<" if self._byteorder == "little" else ">")
        arr = np.frombuffer(raw, dtype=dtype)
        if arr.size != numel:
            raise CheckpointMismatch(f"storage {key}: {arr.size} elements on disk, pickle says {numel}")
        return arr.astype(storage_type.dtype, copy=False)


def load_torch_zip(path: str | os.PathLike) -> Any:
    """Load a torch zip checkpoint with every tensor as a numpy array.

    Returns:
        The checkpoint's object tree (typically a dict of OrderedDict state dicts).

    Raises:
        CheckpointMismatch: the file is not a torch zip checkpoint.
        UnsafePickleError: the pickle references a global outside the allow list.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise CheckpointMismatch(f"{os.fspath(path)!r} is not a torch zip checkpoint: {e}") from None
    with archive:
        pkls = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise CheckpointMismatch(f"{os.fspath(path)!r}: expected one */data.pkl, found {pkls}")
        prefix = pkls[0][: -len("/data.pkl")]
        names = set(archive.namelist())
        byteorder = archive.read(f"{prefix}/byteorder").decode() if f"{prefix}/byteorder" in names else "little"
        return _RestrictedUnpickler(archive.read(pkls[0]), archive, prefix, byteorder).load()
