"""Exceptions that facepipe raises on purpose.

Every message is one line that names the bad value and what would be valid, so the CLI can print it
as-is and exit non-zero (house rule 12).
"""

__all__ = [
    "FacepipeError",
    "ConfigError",
    "ModelFetchError",
    "ChecksumMismatch",
    "CheckpointMismatch",
    "NoFaceError",
    "UnsafePickleError",
    "OutputConflict",
    "OutputNotWritable",
]


class FacepipeError(Exception):
    """Base class: an expected failure caused by input, configuration or environment."""


class ConfigError(FacepipeError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class ModelFetchError(FacepipeError):
    """A model file could not be obtained from its source (offline, missing file, bad package)."""


class ChecksumMismatch(FacepipeError):
    """A model file's sha256 differs from the one pinned in the registry."""


class CheckpointMismatch(FacepipeError):
    """A checkpoint's tensors do not match the network it is loaded into (names or shapes)."""


class UnsafePickleError(FacepipeError):
    """A pickle references a global outside the loader's allow list."""


class OutputConflict(FacepipeError):
    """An output file already exists with different content and overwrite was not requested."""


class OutputNotWritable(FacepipeError):
    """The output directory cannot be created or written."""


class NoFaceError(FacepipeError):
    """No face was found in an image (or its landmarks are not trustworthy)."""
