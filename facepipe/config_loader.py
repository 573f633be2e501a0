"""The config loader: a composed Hydra config (or a plain dict from params.yaml) validated into
`config.FacepipeConfig`. The one place outside the CLI and tracking that imports OmegaConf."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from facepipe.config import FacepipeConfig
from facepipe.errors import ConfigError

__all__ = ["load"]


def _one_line(e: OmegaConfBaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    key = getattr(e, "full_key", None)
    return f"{key}: {msg}" if key else msg


def load(cfg: DictConfig | dict) -> FacepipeConfig:
    """Validate a composed config (Hydra's DictConfig, or a plain dict from params.yaml).

    Keys outside the schema (e.g. Hydra's own `hydra` node) are not allowed except `hydra`.

    Raises:
        ConfigError: a wrong type, an unknown key or a value out of range, in one line.
    """
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True)
    cfg = {k: v for k, v in dict(cfg).items() if k != "hydra"}
    try:
        merged = OmegaConf.merge(OmegaConf.structured(FacepipeConfig), cfg)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as e:
        raise ConfigError(f"config error: {_one_line(e)}") from None
