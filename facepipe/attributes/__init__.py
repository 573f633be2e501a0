"""Face attributes: the vocabulary, the classifiers that score faces (the guide steers edits, the
evaluator grades them), and the latent directions that edit them, with where each generator's live.

Imports `data/`, `models/` and below; `generate/`, `reposition/` and `stages/` import it.
"""
