"""The reposition stage: the planned dataset, labels with measured poses, resume, conflicts, photos."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from photos import astronaut

from facepipe import io
from facepipe.errors import OutputConflict
from facepipe.pipeline import run_job
from facepipe.reposition.mesh import repositioner as mesh


def _labels(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_labels_hold_requests_and_measured_poses(make_cfg):
    result = run_job(make_cfg("seed=2", "sweep.max_angle=10", "sweep.n_random=4"))
    rows = _labels(result.dataset.labels)
    assert [r["name"] for r in rows] == [r.shot.name for r in result.dataset.rows]
    assert len(rows) == 25 + 4 and {r["kind"] for r in rows} == {"grid", "random"}
    measured = [r for r in rows if r["measured_yaw"]]
    assert len(measured) >= 20  # small turns of a landmarkable face stay landmarkable
    errors = [abs(float(r["measured_yaw"]) - float(r["yaw"])) for r in measured if r["kind"] == "grid"]
    assert np.median(errors) < 6
    assert set(r["expression"] for r in rows if r["kind"] == "random") <= {
        "neutral",
        "smile",
        "laugh",
        "surprise",
        "sad",
        "angry",
        "blink",
        "wink",
    }
    sheet = io.read_image(result.dataset.contact_sheet)
    assert sheet.shape[0] > sheet.shape[1] > 5 * 64  # 5 grid columns, grid rows + a gap + random rows


def test_interrupted_reposition_resumes_to_the_same_bytes(make_cfg, tmp_path, monkeypatch):
    whole = run_job(make_cfg("seed=3", f"output_dir={tmp_path / 'whole'}"))
    cfg = make_cfg("seed=3", f"output_dir={tmp_path / 'cut'}")
    real_render, calls = mesh.MeshRepositioner.render, []

    def crash_on_fifth(self, prepared, shot):
        calls.append(shot.name)
        if len(calls) == 5:
            raise KeyboardInterrupt("power cut")
        return real_render(self, prepared, shot)

    monkeypatch.setattr(mesh.MeshRepositioner, "render", crash_on_fifth)
    with pytest.raises(KeyboardInterrupt):
        run_job(cfg)
    monkeypatch.setattr(mesh.MeshRepositioner, "render", real_render)
    cut_dir = tmp_path / "cut" / whole.person.id
    assert len(list((cut_dir / "dataset").glob("*.png"))) == 4 and not list(cut_dir.rglob("*.tmp"))
    resumed = run_job(cfg)
    assert resumed.dataset.written == 11 - 4
    for name in ("labels.csv", "contact_sheet.png", *(f"dataset/{r.shot.name}.png" for r in whole.dataset.rows)):
        assert (cut_dir / name).read_bytes() == (whole.person.dir / name).read_bytes(), name


def test_other_sweep_settings_conflict_unless_overwrite(make_cfg):
    first = run_job(make_cfg("seed=4"))
    with pytest.raises(OutputConflict, match="other dataset settings"):
        run_job(make_cfg("seed=4", "sweep.n_random=1"))
    again = run_job(make_cfg("seed=4", "sweep.n_random=1", "sweep.max_angle=0", "overwrite=true"))
    names = sorted(p.name for p in (first.person.dir / "dataset").glob("*.png"))
    assert names == ["grid_y+00_p+00.png", "random_0000.png"]  # stale images of the old plan are gone
    assert len(_labels(again.dataset.labels)) == 2


def test_a_retrained_shading_model_at_the_same_path_is_other_settings(make_cfg, tmp_path):
    from dataclasses import replace

    from facepipe.config import RepositionConf
    from facepipe.reposition.mesh.shading import ShadingModel

    path = tmp_path / "shading.npz"
    model = ShadingModel.load(RepositionConf().shading)
    model.save(path)
    run_job(make_cfg("seed=5", f"reposition.shading={path}"))
    replace(model, maps={k: v * 0.5 for k, v in model.maps.items()}).save(path)
    with pytest.raises(OutputConflict, match="other dataset settings"):
        run_job(make_cfg("seed=5", f"reposition.shading={path}"))


def test_photo_is_repositioned_in_its_own_folder(make_cfg, tmp_path):
    photo = tmp_path / "astronaut.jpg"
    io.write_image(photo, astronaut(), "jpeg", quality=95)
    result = run_job(make_cfg(f"reposition.image={photo}"))
    person = result.person.dir
    assert person.name.startswith("photo-") and result.person.latent is None
    assert (person / "face.png").is_file() and not (person / "latent.npy").exists()
    assert io.read_image(result.dataset.files[0]).shape == (512, 512, 3)
    rows = _labels(result.dataset.labels)
    frontal = next(r for r in rows if r["name"] == "grid_y+00_p+00")
    assert abs(float(frontal["measured_yaw"])) < 3 and abs(float(frontal["measured_pitch"])) < 3


def test_unlandmarkable_sample_is_resampled_deterministically(make_cfg, monkeypatch):
    seen = []

    def reject_first_two(face):
        seen.append(face.copy())
        return len(seen) > 2

    monkeypatch.setattr("facepipe.face.landmarks.usable", lambda models, max_angle=None: reject_first_two)
    result = run_job(make_cfg("seed=9"))
    assert result.person.tries == 3 and np.array_equal(result.person.face, seen[2])
    assert not np.array_equal(seen[0], seen[1])
    assert json.loads((result.person.dir / "person.json").read_text())["tries"] == 3
    with pytest.raises(Exception, match="none of 16 sampled faces"):
        monkeypatch.setattr("facepipe.face.landmarks.usable", lambda models, max_angle=None: lambda face: False)
        run_job(make_cfg("seed=10"))
    from facepipe.generate.sampling import MAX_TRIES

    assert MAX_TRIES == 16


def test_measure_off_leaves_measured_columns_empty(make_cfg):
    result = run_job(make_cfg("seed=5", "reposition.measure=false", "sweep.n_random=0"))
    rows = _labels(result.dataset.labels)
    assert len(rows) == 9 and all(r["measured_yaw"] == r["measured_pitch"] == "" for r in rows)
    assert "reposition_measured_fraction" not in result.dataset.metrics


def test_render_workers_give_the_same_bytes_as_one_process(make_cfg, tmp_path, monkeypatch):
    """A dataset rendered by two worker processes is the one the stage's own process renders, byte for
    byte, labels and contact sheet included; the workers did the rendering (the stage's process rendered none)."""
    from facepipe.reposition import render_pool

    plan = ("seed=6", "sweep.max_angle=10", "sweep.n_random=8")  # 25 + 8 shots: enough for two workers
    assert 25 + 8 >= 2 * render_pool.MIN_SHOTS_PER_WORKER
    here, real_one = [], render_pool._one
    monkeypatch.setattr(render_pool, "_one", lambda *a: here.append(a[3].name) or real_one(*a))
    one = run_job(make_cfg(*plan, f"output_dir={tmp_path / 'one'}", "reposition.workers=1"))
    assert len(here) == 33
    two = run_job(make_cfg(*plan, f"output_dir={tmp_path / 'two'}", "reposition.workers=2"))
    assert len(here) == 33 and two.dataset.written == 33
    for name in ("labels.csv", "contact_sheet.png", *(f"dataset/{r.shot.name}.png" for r in one.dataset.rows)):
        assert (two.person.dir / name).read_bytes() == (one.person.dir / name).read_bytes(), name
    # the number of workers is not a dataset setting: a rerun with another one keeps the dataset
    again = run_job(make_cfg(*plan, f"output_dir={tmp_path / 'one'}", "reposition.workers=2"))
    assert again.dataset.written == 0


def test_render_workers_must_be_at_least_one(make_cfg):
    from facepipe.errors import ConfigError

    with pytest.raises(ConfigError, match=r"reposition.workers=0 is invalid; valid: an integer >= 1"):
        make_cfg("reposition.workers=0")


def test_the_same_photo_under_another_path_is_the_same_person(make_cfg, tmp_path):
    import shutil

    first = tmp_path / "a" / "astronaut.png"
    first.parent.mkdir()
    io.write_image(first, astronaut(), "png")
    second = tmp_path / "b" / "copy.png"
    second.parent.mkdir()
    shutil.copy(first, second)
    one = run_job(make_cfg(f"reposition.image={first}", "sweep.max_angle=0", "sweep.n_random=0"))
    two = run_job(make_cfg(f"reposition.image={second}", "sweep.max_angle=0", "sweep.n_random=0"))
    assert one.person.dir == two.person.dir and two.dataset.written == 0  # a rerun: nothing new to write
    assert str(first) not in (one.person.dir / "config.yaml").read_text()
