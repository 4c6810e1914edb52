# Training: pairs dataset (one part per shard) + vocabulary -> word vectors (word2vec text format) and a JSON history.
# The checkpoint is deliberately NOT an output: Snakemake deletes the outputs of a failed job, and
# the checkpoint must survive a kill so that rerunning the rule resumes from the last epoch.

rule train:
    """Train CBOW or skip-gram on jingu; resumes from results/checkpoints/{model}.npz if present."""
    input:
        pairs=expand("results/pairs/{{model}}/part-{shard}.parquet", shard=shard_ids()),
        vocab="results/vocab.tsv",
        chars="results/chars.tsv",
    output:
        vec="results/{model}.vec",
        chars="results/{model}.chars.vec",
        history="results/{model}.history.json",
    wildcard_constraints:
        model="|".join(TRAIN_MODELS),
    params:
        settings=lambda wildcards: train_settings(wildcards.model),
        checkpoint="results/checkpoints/{model}.npz",
    # train.workers processes train on the CPU (Hogwild); BLAS stays single-threaded (small products).
    threads: lambda wildcards: json.loads(train_settings(wildcards.model))["workers"]
    resources:
        # A hint for schedulers (e.g. `--resources gpu=1`): only an explicit cuda device claims a GPU.
        gpu=1 if config["train"]["device"] == "cuda" else 0,
    log:
        "results/logs/train/{model}.log",
    benchmark:
        "results/benchmarks/train/{model}.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1"
        " w2v train --model {wildcards.model} --pairs {input.pairs:q} --vocab {input.vocab:q} --char-table {input.chars:q}"
        " --settings {params.settings:q} --checkpoint {params.checkpoint:q}"
        " --out-vec {output.vec:q} --out-history {output.history:q} 2>&1 | tee {log:q}"
