"""Word2vec training internals: per-epoch sampling, batch streaming, the model's ops, the epoch loop
(one process, or Hogwild worker processes on the CPU) and checkpoints.

`w2v.training.train.train` is the entry point; these modules are its parts.
"""
