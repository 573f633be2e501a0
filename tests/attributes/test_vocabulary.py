import pytest

from facepipe.attributes.vocabulary import MISSION_ATTRIBUTES, OUTPUTS, check_targets
from facepipe.errors import ConfigError


def test_mission_words_map_onto_outputs():
    assert set(MISSION_ATTRIBUTES) <= set(OUTPUTS) and len(MISSION_ATTRIBUTES) >= 20


def test_bad_targets_are_named():
    with pytest.raises(ConfigError, match="unknown attribute 'Beardy'; valid: 5_o_Clock_Shadow, .*Young, age"):
        check_targets({"Beardy": 1.0}, [])
    with pytest.raises(ConfigError, match=r"attributes.targets.Male=1.5 is out of range; valid: \[0, 1\]"):
        check_targets({"Male": 1.5}, [])
    with pytest.raises(ConfigError, match=r"age=130.*valid: \[0, 100\]"):
        check_targets({"age": 130}, [])
    with pytest.raises(ConfigError, match="lock contains 'Male', which attributes.targets edits"):
        check_targets({"Male": 1.0}, ["Male"])
    with pytest.raises(ConfigError, match="unknown attribute 'Mael'"):
        check_targets({"Male": 1.0}, ["Mael"])
    check_targets({"Male": 0.0, "age": 60}, ["Smiling"])
