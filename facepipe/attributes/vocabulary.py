"""What the attribute classifiers output, the range of each output, and the mission's words for them.

One classifier scores every attribute: CelebA's 40 binary attributes (probabilities), UTKFace's age
(years) and race (5 class probabilities, `race_<name>`). UTKFace's gender feeds CelebA's `Male`.
Binary outputs are trained class-balanced, so 0.5 is the balanced decision threshold.
"""

from __future__ import annotations

from facepipe.errors import ConfigError

__all__ = ["CELEBA", "RACES", "OUTPUTS", "AGE", "MISSION", "value_range", "check_targets"]

CELEBA = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)
RACES = ("White", "Black", "Asian", "Indian", "Other")  # UTKFace's label order
AGE = "age"
OUTPUTS = (*CELEBA, AGE, *(f"race_{r}" for r in RACES))
AGE_RANGE = (0.0, 100.0)

# The mission's vocabulary -> classifier outputs (skin tone has two readings: race and Pale_Skin).
MISSION = {
    "gender": "Male",
    "age": AGE,
    "young": "Young",
    "skin tone": "Pale_Skin",
    "bangs": "Bangs",
    "hairline": "Receding_Hairline",
    "baldness": "Bald",
    "nose size": "Big_Nose",
    "nose pointiness": "Pointy_Nose",
    "makeup": "Heavy_Makeup",
    "smile": "Smiling",
    "open mouth": "Mouth_Slightly_Open",
    "wavy hair": "Wavy_Hair",
    "black hair": "Black_Hair",
    "blond hair": "Blond_Hair",
    "brown hair": "Brown_Hair",
    "gray hair": "Gray_Hair",
    "beard": "No_Beard",
    "goatee": "Goatee",
    "sideburns": "Sideburns",
    "glasses": "Eyeglasses",
    "earrings": "Wearing_Earrings",
    "necktie": "Wearing_Necktie",
}
MISSION_ATTRIBUTES = tuple(dict.fromkeys(MISSION.values()))


def value_range(name: str) -> tuple[float, float]:
    """The valid target range of an output: years for age, a probability for everything else."""
    if name not in OUTPUTS:
        raise ConfigError(f"unknown attribute {name!r}; valid: {', '.join(OUTPUTS)}")
    return AGE_RANGE if name == AGE else (0.0, 1.0)


def check_targets(targets: dict[str, float], lock: list[str] | tuple[str, ...]) -> None:
    """Refuse unknown names, values out of range, and a lock that contains an edited attribute."""
    for name, value in targets.items():
        lo, hi = value_range(name)
        if not lo <= float(value) <= hi:
            raise ConfigError(f"attributes.targets.{name}={value!r} is out of range; valid: [{lo:g}, {hi:g}]")
    for name in lock:
        value_range(name)
        if name in targets:
            raise ConfigError(
                f"attributes.lock contains {name!r}, which attributes.targets edits; "
                "valid: lock only attributes that are not targets"
            )
