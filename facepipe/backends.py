"""Resolve a backend factory from the `_target_` string in its config group option.

Each backend (generator, upscaler, ...) is one module exposing one factory `build(cfg, models)`;
its YAML names that factory in `_target_`, so adding a backend is one file and one YAML (house
rules 4 and 5). Resolution is a plain import: no Hydra in the core.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from facepipe.errors import ConfigError

__all__ = ["load_factory"]


def load_factory(target: str, group: str) -> Callable[..., Any]:
    """Import `package.module.function` named by a config's `_target_`.

    Raises:
        ConfigError: the module or attribute does not exist.
    """
    module_name, _, attr = target.rpartition(".")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(f"{group}._target_={target!r} cannot be imported: {e}") from None
    if not callable(factory):
        raise ConfigError(f"{group}._target_={target!r} is not callable")
    return factory
