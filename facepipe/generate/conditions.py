"""The condition of the generators trained here, without TensorFlow: its encoding (age, gender,
ethnicity as `COND_DIM` numbers), the checks of a requested condition, and the split of attribute
targets into the condition they set and the rest.

Imported by sampling at start-up, so a bad condition is refused before any model loads.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from facepipe.attributes.vocabulary import AGE_RANGE, RACES
from facepipe.errors import ConfigError

__all__ = [
    "encode_conditions",
    "decode_ages",
    "check_condition",
    "condition_targets",
    "apply_condition",
    "COND_DIM",
    "ETHNICITIES",
    "GENDERS",
]

ETHNICITIES = tuple(r.lower() for r in RACES)  # UTKFace's race codes 0..4, in order
GENDERS = ("male", "female")
COND_DIM = 1 + 2 + len(ETHNICITIES)  # age, gender one-hot (male, female), ethnicity one-hot


def encode_conditions(age: np.ndarray, male: np.ndarray, ethnicity: np.ndarray) -> np.ndarray:
    """Conditions `[N, COND_DIM]` float32 from ages in years, male flags and ethnicity codes 0..4.

    Age enters as log1p(age) / log1p(100) - 0.5: a year matters more for a child than for an old
    person. The caller validates ranges (`check_condition`).
    """
    age = np.asarray(age, np.float32).reshape(-1)
    male = np.asarray(male, np.int64).reshape(-1)
    ethnicity = np.asarray(ethnicity, np.int64).reshape(-1)
    out = np.zeros((len(age), COND_DIM), np.float32)
    out[:, 0] = np.log1p(np.clip(age, *AGE_RANGE)) / np.log1p(AGE_RANGE[1]) - 0.5
    out[np.arange(len(age)), 1 + (1 - male)] = 1.0
    out[np.arange(len(age)), 3 + ethnicity] = 1.0
    return out


def decode_ages(conditions: np.ndarray) -> np.ndarray:
    """Ages in years `[N]` back from conditions `[N, COND_DIM]` (the inverse of `encode_conditions`' age)."""
    return np.expm1((np.asarray(conditions, np.float64)[:, 0] + 0.5) * np.log1p(AGE_RANGE[1]))


def check_condition(age: Optional[float] = None, gender: Optional[str] = None, ethnicity: Optional[str] = None) -> None:
    """Refuse an age outside 0-100, or an unknown gender or ethnicity, naming the valid values.

    Raises:
        ConfigError: a value is out of range or unknown.
    """
    if age is not None and not (isinstance(age, (int, float)) and AGE_RANGE[0] <= age <= AGE_RANGE[1]):
        raise ConfigError(f"age={age!r} is out of range; valid: {AGE_RANGE[0]:g} to {AGE_RANGE[1]:g} years")
    if gender is not None and gender not in GENDERS:
        raise ConfigError(f"gender={gender!r} is unknown; valid: {', '.join(GENDERS)}")
    if ethnicity is not None and ethnicity not in ETHNICITIES:
        raise ConfigError(f"ethnicity={ethnicity!r} is unknown; valid: {', '.join(ETHNICITIES)}")


def condition_targets(targets: dict[str, float]) -> tuple[dict, dict[str, float]]:
    """Split attribute targets into the condition they set and the rest (edited through directions).

    `age` (years) sets the age; `Male` sets the gender (>= 0.5: male); `race_<Name>` = 1 sets the ethnicity.

    Raises:
        ConfigError: a race target below 0.5, or more than one race asked for.
    """
    condition, rest = {}, {}
    for name, value in targets.items():
        if name == "age":
            condition["age"] = float(value)
        elif name == "Male":
            condition["gender"] = "male" if value >= 0.5 else "female"
        elif name.startswith("race_"):
            if value < 0.5 or "ethnicity" in condition:
                raise ConfigError(
                    f"attributes.targets.{name}={value!r}: a conditional generator takes one race "
                    "target set to 1; valid: e.g. attributes.targets.race_Asian=1"
                )
            condition["ethnicity"] = name[len("race_") :].lower()
        else:
            rest[name] = value
    check_condition(**condition)
    return condition, rest


def apply_condition(generator, latent: np.ndarray, targets: dict[str, float]) -> np.ndarray:
    """`latent` with the condition its targets ask for, when `generator` is conditional; else unchanged."""
    if not hasattr(generator, "condition_latent"):
        return latent
    condition, _ = condition_targets(dict(targets))
    return generator.condition_latent(latent, **condition) if condition else latent
