"""The dataset plan: exact grid, seeded random shots that reproduce one by one, labels as CSV."""

from __future__ import annotations

import csv

import pytest
from conftest import compose_cfg

from facepipe.errors import ConfigError
from facepipe.reposition.plan import LabelRow, Shot, grid_shots, plan, random_shots, write_labels


def test_grid_spans_both_ends_in_steps():
    shots = grid_shots(60, 5)
    assert len(shots) == 25 * 25
    yaws = sorted({s.yaw for s in shots})
    assert yaws[0] == -60 and yaws[-1] == 60 and yaws[1] - yaws[0] == 5
    assert len({s.name for s in shots}) == len(shots)
    assert all(s.expression == "neutral" and s.gaze_yaw == 0 for s in shots)


def test_random_shots_are_seeded_in_range_and_independent_of_n():
    cfg = compose_cfg(["sweep.n_random=50"])
    a = random_shots(3, 50, cfg.sweep, cfg.expressions)
    assert a == random_shots(3, 50, cfg.sweep, cfg.expressions)
    assert a[:10] == random_shots(3, 10, cfg.sweep, cfg.expressions)  # shot k does not depend on n
    assert a != random_shots(4, 50, cfg.sweep, cfg.expressions)
    for s in a:
        assert abs(s.yaw) <= cfg.sweep.yaw_range and abs(s.pitch) <= cfg.sweep.pitch_range
        assert abs(s.roll) <= cfg.sweep.roll_range and abs(s.gaze_yaw) <= cfg.sweep.gaze_range
        assert s.expression in cfg.expressions.names
        assert s.intensity == 0 if s.expression == "neutral" else cfg.expressions.intensity_min <= s.intensity <= 1
    assert len({s.expression for s in a}) >= 6


def test_plan_is_grid_then_random():
    cfg = compose_cfg(["sweep.max_angle=60", "sweep.n_random=100"])
    shots = plan(cfg.seed, cfg.sweep, cfg.expressions)
    assert len(shots) == 725 and shots[624].kind == "grid" and shots[625].kind == "random"


@pytest.mark.parametrize("override", ["expressions.names=[smile,frown]", "expressions.intensity_max=1.5"])
def test_bad_expressions_are_config_errors(override):
    with pytest.raises(ConfigError, match="expressions"):
        compose_cfg([override])


def test_labels_csv_round_trip(tmp_path):
    rows = [
        LabelRow("grid_y+00_p+00.png", Shot("grid_y+00_p+00", "grid", 0.0, 0.0), 0.5, -1.25, 0.0),
        LabelRow("random_0000.png", Shot("random_0000", "random", 12.5, -3.0, 4.0, 5.0, -2.0, "smile", 0.8)),
    ]
    write_labels(tmp_path / "labels.csv", rows)
    with open(tmp_path / "labels.csv") as f:
        read = list(csv.DictReader(f))
    assert read[0]["measured_pitch"] == "-1.25" and read[1]["expression"] == "smile"
    assert read[1]["measured_yaw"] == "" and float(read[1]["intensity"]) == 0.8
