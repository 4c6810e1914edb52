# Text stages: raw corpus -> jieba shards (scatter) -> tokens.txt (gather) -> vocab.tsv -> pairs.
# Every command writes its log lines both to results/logs/ and to the console (tee), so an
# error message reaches the user without opening the log.

SHARDS = list(range(config["segment"]["shards"]))
USER_DICT = config["segment"]["user_dict"]


wildcard_constraints:
    shard=r"\d+",


rule text:
    """Convenience target: every text-stage output."""
    input:
        tokens="results/tokens.txt",
        vocab="results/vocab.tsv",
        cbow="results/pairs/cbow.parquet",
        skipgram="results/pairs/skipgram.parquet",


rule jieba_cache:
    """Build jieba's prefix-dictionary cache once, so shard jobs only read it."""
    output:
        cache="results/jieba/jieba.cache",
    log:
        "results/logs/jieba_cache/jieba_cache.log",
    benchmark:
        "results/benchmarks/jieba_cache.tsv"
    shell:
        "w2v segment --build-cache --jieba-cache {output.cache:q} 2>&1 | tee {log:q}"


rule segment:
    """Segment one contiguous run of the corpus' lines (scatter: one job per shard)."""
    input:
        corpus=config["corpus"],
        user_dict=[USER_DICT] if USER_DICT else [],
        cache=rules.jieba_cache.output.cache,
    output:
        shard="results/segmented/shard-{shard}.txt",
    params:
        settings=settings("segment", "encoding"),
        user_dict_option="--user-dict" if USER_DICT else "",
    log:
        "results/logs/segment/shard-{shard}.log",
    benchmark:
        "results/benchmarks/segment/shard-{shard}.tsv"
    shell:
        "w2v segment --corpus {input.corpus:q} --encoding {params.settings[encoding]:q}"
        " {params.user_dict_option} {input.user_dict:q} --hmm {params.settings[hmm]}"
        " --shards {params.settings[shards]} --shard {wildcards.shard}"
        " --jieba-cache {input.cache:q} --output {output.shard:q} 2>&1 | tee {log:q}"


rule clean:
    """Gather the shards in order; drop punctuation and symbols; one sentence a line."""
    input:
        shards=expand("results/segmented/shard-{shard}.txt", shard=SHARDS),
    output:
        tokens="results/tokens.txt",
    params:
        settings=settings("clean"),
    log:
        "results/logs/clean/clean.log",
    benchmark:
        "results/benchmarks/clean.tsv"
    shell:
        "w2v clean {input.shards:q} --digits {params.settings[digits]}"
        " --latin {params.settings[latin]} --output {output.tokens:q} 2>&1 | tee {log:q}"


rule vocab:
    """Count tokens; keep words seen at least min_count times (id 0 is padding)."""
    input:
        tokens=rules.clean.output.tokens,
    output:
        vocab="results/vocab.tsv",
    params:
        settings=settings("vocab"),
    log:
        "results/logs/vocab/vocab.log",
    benchmark:
        "results/benchmarks/vocab.tsv"
    shell:
        "w2v vocab {input.tokens:q} --min-count {params.settings[min_count]}"
        " --max-vocab-size {params.settings[max_vocab_size]} --output {output.vocab:q} 2>&1 | tee {log:q}"


rule pairs:
    """Every (center, context) relation up to window, for CBOW and skip-gram (Parquet)."""
    input:
        tokens=rules.clean.output.tokens,
        vocab=rules.vocab.output.vocab,
    output:
        cbow="results/pairs/cbow.parquet",
        skipgram="results/pairs/skipgram.parquet",
    params:
        settings=settings("pairs", "seed"),
    log:
        "results/logs/pairs/pairs.log",
    benchmark:
        "results/benchmarks/pairs.tsv"
    shell:
        "w2v pairs {input.tokens:q} --vocab {input.vocab:q} --window {params.settings[window]}"
        " --seed {params.settings[seed]} --cbow {output.cbow:q} --skipgram {output.skipgram:q}"
        " 2>&1 | tee {log:q}"
