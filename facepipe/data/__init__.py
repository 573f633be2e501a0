"""Readers of the shared training data sets (`../shared/data`: UTKFace, CelebA) and their fixed
held-out splits, and the two package photos the tests use.

Imports only `errors` and the attribute vocabulary; every trainer, evaluation and benchmark uses it.
"""
