"""Word2vec training internals: per-epoch sampling, batch streaming, fused ops and checkpoints.

`w2v.train.train` is the entry point; these modules are its parts.
"""
