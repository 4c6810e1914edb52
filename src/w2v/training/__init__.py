"""Word2vec training on jingu.

- `train`: the entry point, `train(model, files, settings)`, in four steps (prepare, resume, fit, export).
- `settings`: `TrainSettings`, the checked and frozen settings of one model.
- `registry`: the models by name (model class, pairs layout, example mask); a new model is an entry.
- `models` and `ops`: CBOW and skip-gram as jingu modules, and their fused ops.
- `reader`: a pairs dataset's Parquet parts as one stream of row groups.
- `pipeline`: an epoch's masked, shuffled batches; the host and the device pipelines, chosen once.
- `sampling`: the per-epoch draws (subsampling, windows, negatives, shuffles) as pure functions.
- `loop`: the epochs, in one process or in Hogwild workers (`hogwild`); `optim`; `checkpoint`.
"""
