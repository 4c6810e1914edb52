# Evaluation: score both models and write results/similarity_report.md with its figures (SVG, PNG
# fallbacks beside them) and results/explorer.html, the page to browse both models.
# Settings: config `eval` (see workflow/schemas/config.schema.yaml). All logic lives in `w2v evaluate`;
# its log lines go to results/logs/evaluate/ and to the console, like the text stages'.

rule evaluate:
    input:
        vectors=expand("results/{model}.vec", model=TRAIN_MODELS),
        # read beside each .vec: words outside the vocabulary composed from their characters
        chars=expand("results/{model}.chars.vec", model=TRAIN_MODELS),
        histories=expand("results/{model}.history.json", model=TRAIN_MODELS),
        stats="results/corpus.json",
        vocab="results/vocab.tsv",
        aliases=config["eval"]["aliases"] or [],
        analogies=config["eval"]["analogies"] or [],
        analogy_sets=config["eval"]["analogy_sets"],
        word_pairs=config["eval"]["word_pairs"],
    output:
        report=report(
            "results/similarity_report.md",
            caption="../report/similarity_report.rst",
            category="Report",
        ),
        loss=report(
            "results/report/loss.svg",
            caption="../report/loss.rst",
            category="Training",
        ),
        pca=report(
            "results/report/aliases_pca.svg",
            caption="../report/aliases_pca.rst",
            category="Similarity",
        ),
        loss_png="results/report/loss.png",
        pca_png="results/report/aliases_pca.png",
        metrics="results/report/metrics.json",
        # Not a report() item: the HTML report cannot show a page this size in its frame; open it directly.
        explorer="results/explorer.html",
    params:
        # One JSON text with "<", ">" and "&" as \u escapes: the HTML report embeds these params in a
        # script element of its page, and queries or paths from the config could hold markup.
        settings=report_safe_json(settings("eval", "corpus"), min_count=config["vocab"]["min_count"]),
        figures=lambda wildcards, output: str(Path(output.loss).parent),
    log:
        "results/logs/evaluate/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v evaluate --vectors {input.vectors:q} --histories {input.histories:q}"
        " --corpus-stats {input.stats:q} --vocab {input.vocab:q} --settings {params.settings:q}"
        " --output {output.report:q} --figures {params.figures:q}"
        " --explorer {output.explorer:q} 2>&1 | tee {log:q}"


rule projector:
    """TensorBoard Embedding Projector files for both models (`w2v export`); not in the default target."""
    input:
        vectors=expand("results/{model}.vec", model=TRAIN_MODELS),
        # read beside each .vec: words outside the vocabulary composed from their characters
        chars=expand("results/{model}.chars.vec", model=TRAIN_MODELS),
        vocab="results/vocab.tsv",
    output:
        config="results/projector/projector_config.json",
        tensors=expand("results/projector/{model}_tensor.tsv", model=TRAIN_MODELS),
        metadata=expand("results/projector/{model}_metadata.tsv", model=TRAIN_MODELS),
    params:
        folder=lambda wildcards, output: str(Path(output.config).parent),
    log:
        "results/logs/projector/projector.log",
    conda:
        "../envs/w2v.yaml"
    shell:
        "w2v export {input.vectors:q} --vocab {input.vocab:q} -o {params.folder:q} 2>&1 | tee {log:q}"
