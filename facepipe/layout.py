"""The on-disk contract: every file and folder name inside a person folder, in one place.

    <output_dir>/<person id>/
        face.png  latent.npy  config.yaml  person.json      the person (generate)
        dataset/<shot>.png  dataset/reposition.json         the repositioned images and their settings
        labels.csv  contact_sheet.png                       one row per dataset image; an overview
        upscaled/<upscaler>-<size>-<format>/...             each upscaler setting mirrors the folder
            upscaler.json                                   that setting

Imports nothing from the package; every stage and command that reads or writes a person folder uses it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "FACE_FILE",
    "LATENT_FILE",
    "CONFIG_FILE",
    "MANIFEST_FILE",
    "DATASET_DIR",
    "LABELS_FILE",
    "CONTACT_SHEET_FILE",
    "REPOSITION_SETTINGS_FILE",
    "UPSCALED_DIR",
    "UPSCALE_SETTINGS_FILE",
    "dataset_image",
    "upscaled_dir_name",
    "person_dirs",
]

FACE_FILE = "face.png"  # the person's face, RGB
LATENT_FILE = "latent.npy"  # the generator latent `[D]` float32 (absent for a photo)
CONFIG_FILE = "config.yaml"  # the config sections that define the person
MANIFEST_FILE = "person.json"  # seed, generator weights, edit record, file hashes
DATASET_DIR = "dataset"  # the repositioned images
LABELS_FILE = "labels.csv"  # one row per dataset image
CONTACT_SHEET_FILE = "contact_sheet.png"
REPOSITION_SETTINGS_FILE = "reposition.json"  # inside DATASET_DIR: the settings the images were made with
UPSCALED_DIR = "upscaled"  # one subfolder per upscaler setting
UPSCALE_SETTINGS_FILE = "upscaler.json"  # inside each upscaled subfolder


def dataset_image(person_dir: Path, shot_name: str) -> Path:
    """The dataset image of one shot: `<person>/dataset/<shot name>.png`."""
    return Path(person_dir) / DATASET_DIR / f"{shot_name}.png"


def upscaled_dir_name(name: str, output_size: int, fmt: str) -> str:
    """Folder name of one upscaler setting inside `upscaled/`, e.g. `bicubic-1024-png`."""
    return f"{name}-{output_size}-{fmt}"


def person_dirs(root: Path) -> list[Path]:
    """Person folders (those holding a face.png) directly under `root`, sorted."""
    return sorted(p.parent for p in Path(root).glob(f"*/{FACE_FILE}"))
