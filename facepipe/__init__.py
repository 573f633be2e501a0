"""facepipe: config-driven, reproducible synthetic face datasets (generate -> reposition -> upscale)."""

__version__ = "0.1.0"
