# Text stages, one job per shard for every stage whose work grows with the corpus:
#   a file's text range(s) -> segmented shard -> clean shard + its counts  (a job each per shard)
#   all shards' counts -> one hash partition's candidate words            (a job per partition)
#   all partitions + shards' counts -> vocab.tsv + corpus.json + chars.tsv (one job, kept-words-sized;
#                                        with one partition it merges the counts itself)
#   clean shard + vocab -> pairs part of a model                         (a job per shard and model)
# Shards belong to files (common.smk, `SHARDS`): adding or changing a file reruns only its shards'
# segmentation and cleaning, then the vocabulary and everything after it.
# Every command writes its log lines both to results/logs/ and to the console (tee), so an error
# message reaches the user without opening the log.


wildcard_constraints:
    shard=r"[^/]+",
    part=r"\d+",


rule text:
    """Convenience target: every text-stage output."""
    input:
        vocab="results/vocab.tsv",
        pairs=expand("results/pairs/{model}/part-{shard}.parquet", model=TRAIN_MODELS, shard=shard_ids()),


rule jieba_cache:
    """Build jieba's prefix-dictionary cache once, so shard jobs only read it."""
    output:
        cache="results/jieba/jieba.cache",
    log:
        "results/logs/jieba_cache/jieba_cache.log",
    benchmark:
        "results/benchmarks/jieba_cache.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v segment --build-cache --jieba-cache {output.cache:q} 2>&1 | tee {log:q}"


rule segment:
    """Segment one shard: text ranges of its file(s), cut at line starts; the job reads only those."""
    input:
        corpus=shard_files,
        user_dict=[config["segment"]["user_dict"]] if config["segment"]["user_dict"] else [],
        cache=rules.jieba_cache.output.cache,
    output:
        shard="results/segmented/shard-{shard}.txt",
    params:
        # shard_mb is left out: a shard's ranges say all it changes, so other files' shards stay done
        settings={k: v for k, v in settings("segment", "encoding").items() if k != "shard_mb"},
        user_dict_option="--user-dict" if config["segment"]["user_dict"] else "",
        ranges=shard_spec,
    log:
        "results/logs/segment/shard-{shard}.log",
    benchmark:
        "results/benchmarks/segment/shard-{shard}.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v segment --ranges {params.ranges:q} --encoding {params.settings[encoding]:q}"
        " {params.user_dict_option} {input.user_dict:q} --hmm {params.settings[hmm]}"
        " --jieba-cache {input.cache:q} --output {output.shard:q} 2>&1 | tee {log:q}"


rule clean:
    """Drop punctuation and symbols from one segmented shard (one sentence a line) and count its tokens."""
    input:
        shard=rules.segment.output.shard,
    output:
        tokens="results/tokens/shard-{shard}.txt",
        counts="results/counts/shard-{shard}.parquet",
    params:
        settings=settings("clean"),
        # a new counts format reruns the shards' counting in a workdir made by an older version
        counts_format=COUNTS_FORMAT,
    log:
        "results/logs/clean/shard-{shard}.log",
    benchmark:
        "results/benchmarks/clean/shard-{shard}.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v clean {input.shard:q} --digits {params.settings[digits]} --latin {params.settings[latin]}"
        " --output {output.tokens:q} --counts {output.counts:q} 2>&1 | tee {log:q}"


rule count_merge:
    """Sum one hash partition of the shards' counts; keep its words seen at least min_count times
    (with max_vocab_size, its that many most frequent): memory follows the partition."""
    input:
        counts=expand("results/counts/shard-{shard}.parquet", shard=shard_ids()),
    output:
        part="results/counts/merged/part-{part}.parquet",
    params:
        settings=settings("vocab"),
        partitions=count_partitions(),
    log:
        "results/logs/count_merge/part-{part}.log",
    benchmark:
        "results/benchmarks/count_merge/part-{part}.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v count-merge {input.counts:q} --partition {wildcards.part}"
        " --partitions {params.partitions} --min-count {params.settings[min_count]}"
        " --max-vocab-size {params.settings[max_vocab_size]} --output {output.part:q} 2>&1 | tee {log:q}"


rule vocab:
    """Order the partitions' kept words (with one partition, merge the shards' counts here; id 0 is
    padding); corpus totals and where each shard's tokens start; list the kept words' characters."""
    input:
        counts=expand("results/counts/shard-{shard}.parquet", shard=shard_ids()),
        merged=merged_counts(),
    output:
        vocab="results/vocab.tsv",
        stats="results/corpus.json",
        chars="results/chars.tsv",
    params:
        settings=settings("vocab"),
        merged_option="--merged" if merged_counts() else "",
    log:
        "results/logs/vocab/vocab.log",
    benchmark:
        "results/benchmarks/vocab.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v vocab {input.counts:q} {params.merged_option} {input.merged:q} --min-count {params.settings[min_count]}"
        " --max-vocab-size {params.settings[max_vocab_size]} --output {output.vocab:q}"
        " --stats {output.stats:q} --chars {output.chars:q} 2>&1 | tee {log:q}"


rule pairs:
    """Every (center, context) relation up to window in one shard, for one model (Parquet)."""
    input:
        tokens=rules.clean.output.tokens,
        vocab=rules.vocab.output.vocab,
        stats=rules.vocab.output.stats,
    output:
        part="results/pairs/{model}/part-{shard}.parquet",
    wildcard_constraints:
        model="|".join(TRAIN_MODELS),
    params:
        settings=settings("pairs", "seed"),
        part=shard_index,
    log:
        "results/logs/pairs/{model}-part-{shard}.log",
    benchmark:
        "results/benchmarks/pairs/{model}-part-{shard}.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v pairs {input.tokens:q} --vocab {input.vocab:q} --stats {input.stats:q} --part {params.part}"
        " --window {params.settings[window]} --seed {params.settings[seed]}"
        " --{wildcards.model} {output.part:q} 2>&1 | tee {log:q}"
