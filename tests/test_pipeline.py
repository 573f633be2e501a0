"""End to end in-process: reproducible bytes, resumable runs, no silent overwrites."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from facepipe import io
from facepipe.errors import OutputConflict
from facepipe.pipeline import run_job
from facepipe.stages import upscale as upscale_stage


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_person_folder_holds_everything_to_reproduce_it(make_cfg):
    result = run_job(make_cfg("attributes=old_male", "seed=3"))
    person = result.person.dir
    assert person.name == result.person.id and len(person.name) == 12
    for name in ("face.png", "latent.npy", "config.yaml", "person.json", "labels.csv", "contact_sheet.png"):
        assert (person / name).is_file(), name
    assert sorted(p.name for p in (person / "dataset").glob("*.png")) == sorted(
        f"{row.shot.name}.png" for row in result.dataset.rows
    )
    assert len(result.dataset.rows) == 9 + 2
    # the dataset (not the contact sheet) is upscaled too, mirrored under the upscaler's folder
    assert len(result.upscaled.files) == 1 + 11
    assert not (result.upscaled.dir / "contact_sheet.png").exists()
    assert np.array_equal(np.load(person / "latent.npy"), result.person.latent)
    face = io.read_image(result.upscaled.files[0])
    assert face.shape == (1024, 1024, 3)
    assert result.upscaled.dir == person / "upscaled" / "face_sr-1024-png"
    assert "Male: 1.0" in (person / "config.yaml").read_text()


def test_same_config_and_seed_give_the_same_bytes(make_cfg, tmp_path):
    a = run_job(make_cfg("seed=11", f"output_dir={tmp_path / 'a'}", "upscaler=fsrcnn"))
    b = run_job(make_cfg("seed=11", f"output_dir={tmp_path / 'b'}", "upscaler=fsrcnn"))
    assert a.person.id == b.person.id
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    c = run_job(make_cfg("seed=12", f"output_dir={tmp_path / 'c'}", "upscaler=fsrcnn"))
    assert c.person.id != a.person.id and not np.array_equal(c.person.face, a.person.face)


def test_rerun_is_a_no_op_and_tampering_is_caught(make_cfg):
    cfg = make_cfg("seed=4")
    first = run_job(cfg)
    before = _tree(first.person.dir)
    again = run_job(cfg)
    assert again.dataset.written == 0 and again.upscaled.written == 0 and _tree(first.person.dir) == before
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(first.person.dir / "face.png")
    with pytest.raises(OutputConflict, match="face.png"):
        run_job(cfg)
    overwritten = run_job(make_cfg("seed=4", "overwrite=true"))
    assert (overwritten.person.dir / "face.png").read_bytes() == before["face.png"]


def test_interrupted_upscale_resumes(make_cfg, monkeypatch):
    cfg = make_cfg("seed=5", "upscaler.batch_size=1")
    person = run_job(cfg).person.dir
    shutil.rmtree(person / "upscaled")
    real_write, calls = io.write_image, []

    def crash_on_third(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise KeyboardInterrupt("power cut")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(upscale_stage.io, "write_image", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_job(cfg)
    monkeypatch.setattr(upscale_stage.io, "write_image", real_write)
    assert not [p for p in person.rglob("*") if p.name.endswith(".tmp")]
    resumed = run_job(cfg)
    assert resumed.upscaled.written == 10 and len(resumed.upscaled.files) == 12
    assert all(io.read_image(p).shape == (1024, 1024, 3) for p in resumed.upscaled.files)


def test_other_upscaler_settings_do_not_clobber(make_cfg):
    a = run_job(make_cfg("seed=6", "upscaler=bilinear"))
    b = run_job(make_cfg("seed=6", "upscaler=lanczos", "upscaler.output_size=256", "upscaler.format=jpeg"))
    assert a.person.dir == b.person.dir and a.upscaled.dir != b.upscaled.dir
    assert b.upscaled.files[0].suffix == ".jpg" and io.read_image(b.upscaled.files[0]).shape == (256, 256, 3)
    # same folder name, different settings (quality) -> refused, not overwritten
    with pytest.raises(OutputConflict, match="upscaler settings"):
        run_job(
            make_cfg(
                "seed=6", "upscaler=lanczos", "upscaler.output_size=256", "upscaler.format=jpeg", "upscaler.quality=50"
            )
        )


def test_stage_reposition_reads_the_latent_from_its_input_folder(make_cfg, tmp_path):
    from facepipe.pipeline import run_stage

    cfg = make_cfg(
        "seed=3", "reposition=latent", "sweep.max_angle=0", "sweep.n_random=0", "expressions.names=[neutral]"
    )
    run_stage("generate", cfg, [], tmp_path / "generate")
    (person,) = [p for p in (tmp_path / "generate").iterdir() if p.is_dir()]
    assert (person / "latent.npy").is_file()
    lines = run_stage("reposition", cfg, [tmp_path / "generate"], tmp_path / "reposition")
    assert lines == [f"repositioned 1 image(s) -> {tmp_path / 'reposition' / person.name / 'dataset'}"]
    assert (tmp_path / "reposition" / person.name / "dataset" / "grid_y+00_p+00.png").is_file()
    assert not (tmp_path / "reposition" / person.name / "latent.npy").exists()  # read from --in, not copied
