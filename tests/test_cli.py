"""The command line as users type it: the main job, --help, and one clear line for each bad input."""

from __future__ import annotations

import shutil

import pytest
from conftest import run_cli

from facepipe.io import read_image


def test_main_command_generates_repositions_and_upscales(tmp_path):
    # the mission's command, with a coarse grid (step 30: 5 x 5) and 3 random shots to stay fast
    proc = run_cli(
        "attributes=old_male",
        "sweep.max_angle=60",
        "sweep.step=30",
        "sweep.n_random=3",
        f"output_dir={tmp_path / 'out'}",
        "tracking=none",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (person,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert read_image(person / "upscaled" / "face_sr-1024-png" / "face.png").shape == (1024, 1024, 3)
    labels = (person / "labels.csv").read_text().splitlines()
    assert len(labels) == 1 + 25 + 3 and labels[1].startswith("dataset/grid_y-60_p-60.png,")
    assert read_image(person / "upscaled" / "face_sr-1024-png" / "dataset" / "random_0002.png").shape == (1024, 1024, 3)
    import json

    attributes = json.loads((person / "person.json").read_text())["attributes"]
    assert attributes["applied"] is True and attributes["guide_after"]["Male"] >= 0.85
    assert "cuInit" not in proc.stderr and "cudart" not in proc.stderr  # TensorFlow start-up noise silenced


def test_help_lists_groups():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for group in ("attributes:", "generator:", "sweep:", "expressions:", "upscaler:"):
        assert group in proc.stdout
    assert "old_male" in proc.stdout and "fsrcnn" in proc.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["sweep.max_angle=abc"], "sweep.max_angle"),
        (["sweep.max_angle=91"], "sweep.max_angle=91 is invalid; valid: an integer in [0, 90]"),
        (["sweep.step=0"], "sweep.step=0 is invalid"),
        (["upscaler.output_size=-1"], "upscaler.output_size=-1 is invalid"),
        (["expressions.names=[smile,grin]"], "expressions.names='grin' is invalid; valid: neutral, smile, laugh"),
        (["reposition.image=no/such/photo.jpg"], "reposition.image='no/such/photo.jpg' does not exist"),
    ],
)
def test_bad_values_exit_2_with_one_line(tmp_path, args, expected):
    proc = run_cli(*args, f"output_dir={tmp_path}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("facepipe: error:") and expected in lines[0], proc.stderr
    assert not list(tmp_path.glob("*/face.png"))


@pytest.mark.parametrize("args", [["attributes=nope"], ["--multirun", "upscaler=bicubic,nope"]])
def test_unknown_preset_names_the_valid_ones(tmp_path, args):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "'nope' is not an option of group" in proc.stderr and ("old_male" in proc.stderr or "fsrcnn" in proc.stderr)


def test_typo_in_key_is_refused(tmp_path):
    proc = run_cli("sweep.max_angel=60", cwd=tmp_path)
    assert proc.returncode != 0 and "max_angel" in proc.stderr


def test_unwritable_output_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli(f"output_dir={blocker / 'out'}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("facepipe: error: output_dir=") and "not writable" in proc.stderr


def test_missing_model_cannot_be_fetched(tmp_path, monkeypatch):
    """Offline (an unreachable index) and nothing cached: a clear error, nothing left behind."""
    monkeypatch.setenv("FACEPIPE_MODEL_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "0")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    proc = run_cli(f"output_dir={tmp_path / 'out'}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("facepipe: error:")]
    assert "could not download 'mediapipe==0.10.21'" in line and "--file PATH" in line  # the first model needed
    assert not [p for p in (tmp_path / "empty-cache").rglob("*") if p.is_file()]


def test_corrupt_cached_model_is_refused(tmp_path, monkeypatch, models):
    cache = tmp_path / "cache"
    shutil.copytree(models.cache_dir, cache)
    (weights,) = (cache / "dcgan_digiface").rglob("weights.tar")
    weights.write_bytes(weights.read_bytes()[:1000])  # a truncated download
    monkeypatch.setenv("FACEPIPE_MODEL_CACHE", str(cache))
    proc = run_cli(f"output_dir={tmp_path / 'out'}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("facepipe: error: model 'dcgan_digiface'") and "sha256" in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("face.png"))


def test_photo_that_is_not_an_image_or_has_no_face(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    proc = run_cli(f"reposition.image={text}", f"output_dir={tmp_path / 'out'}", "tracking=none", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"facepipe: error: reposition.image='{text}' is not a readable image; valid: a path to a PNG/JPEG/WebP face photo"
    ]

    from PIL import Image

    Image.new("RGB", (200, 160), (90, 140, 200)).save(tmp_path / "sky.png")  # a picture without a face
    proc = run_cli(
        f"reposition.image={tmp_path / 'sky.png'}", f"output_dir={tmp_path / 'out'}", "tracking=none", cwd=tmp_path
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("facepipe: error: no face found in the 200x160 image") and "sky.png" in line
    assert not list((tmp_path / "out").glob("*/dataset/*.png"))
