"""The torch-free checkpoint reader loads real state dicts and runs nothing else."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from facepipe.errors import CheckpointMismatch, UnsafePickleError
from facepipe.models.torch_zip import load_torch_zip


def _zip(path, data_pkl: bytes, storages: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)


class _Exploit:
    """Pickles to `os.system(<touch marker>)`, the classic malicious checkpoint."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_real_dcgan_checkpoint_loads_as_numpy(models):
    state = load_torch_zip(models.path("dcgan_digiface"))["netG_state_dict"]
    assert state["main.0.weight"].shape == (100, 512, 4, 4)
    assert state["main.0.weight"].dtype == np.float32
    assert state["main.1.num_batches_tracked"].dtype == np.int64
    assert len(state) == 25


def test_strided_tensor_is_rebuilt_like_torch(tmp_path):
    """A 2x3 float tensor viewed with stride (1, 2) at offset 1 of a 7-element storage.

    Written opcode by opcode as torch.save emits it: GLOBAL, persistent id tuple, REDUCE.
    """
    storage = np.arange(7, dtype=np.float32)
    pk = (
        b"\x80\x02}X\x01\x00\x00\x00tctorch._utils\n_rebuild_tensor_v2\n"
        b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x07tQ"
        b"K\x01K\x02K\x03\x86K\x01K\x02\x86\x89ccollections\nOrderedDict\n)RtRs."
    )
    _zip(tmp_path / "t.pt", pk, {"0": storage.tobytes()})
    tensor = load_torch_zip(tmp_path / "t.pt")["t"]
    np.testing.assert_array_equal(tensor, [[1, 3, 5], [2, 4, 6]])


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    _zip(tmp_path / "evil.pt", pickle.dumps({"netG_state_dict": _Exploit(marker)}, protocol=2))
    with pytest.raises(UnsafePickleError, match="system"):
        load_torch_zip(tmp_path / "evil.pt")
    assert not marker.exists()


def test_not_a_checkpoint(tmp_path):
    junk = tmp_path / "weights.tar"
    junk.write_bytes(b"definitely not a zip")
    with pytest.raises(CheckpointMismatch, match="not a torch zip checkpoint"):
        load_torch_zip(junk)
