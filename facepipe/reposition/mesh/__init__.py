"""The mesh repositioning backend: the head model and triangle warp, expressions and mouth painting,
expression shading, the smile shape and gaze. `repositioner.build` is the backend's factory.

Imports `face/`, `reposition.plan` and `reposition.base`; only the reposition stage and the mesh
backend's own modules import it.
"""
