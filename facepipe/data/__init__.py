"""Readers of the shared training data sets (`../shared/data`) and their fixed held-out splits.

Used by trainers and benchmarks; imports nothing above `errors`.
"""
