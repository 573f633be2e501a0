"""Stage entry points: typed config in, core functions called, outputs written and logged.

Each stage is a plain function of (config, paths, model store, tracker), shared by the Hydra CLI
(`facepipe.cli`) and the DVC stage commands (`python -m facepipe stage ...`).
"""
