# Chinese word2vec workflow: raw novel -> tokens -> vocabulary -> window pairs -> vectors -> report.
# Rules live in workflow/rules/; settings in config/config.yaml, checked against workflow/schemas/.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/text.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"


rule all:
    """Both models' vectors and the similarity report (the default target)."""
    default_target: True
    input:
        expand("results/{model}.vec", model=TRAIN_MODELS),
        "results/similarity_report.md",


onerror:
    summarise_failures(log)


onsuccess:
    print_next_step()
