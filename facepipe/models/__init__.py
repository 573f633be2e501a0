"""The model registry (`catalog.yaml`: every fetched file with its source, size, sha256 and licence),
the atomic fetch-and-verify cache, and safe loaders of foreign checkpoints (restricted unpickling,
PyTorch zip files without torch, Keras 2 HDF5 files).

Imports only `errors` and `io`; every backend that needs weights imports it.
"""
