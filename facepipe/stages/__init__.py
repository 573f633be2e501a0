"""Stage entry points, thin: a typed config in, core functions called, outputs written and logged.

One module per DVC stage. Only the dispatcher (`facepipe.pipeline`) imports this package; stages do
not import each other. They may import everything below them.
"""
