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
        expand("results/{model}.vec", model=["cbow", "skipgram"]),
        "results/similarity_report.md",


onerror:
    summarise_failures(log)


onsuccess:
    # Name the next command: a run for one model's vectors does not build the report.
    report_md = Path("results/similarity_report.md")
    vectors = [Path(f"results/{model}.vec") for model in TRAIN_MODELS]
    stale = not report_md.exists() or any(
        v.exists() and v.stat().st_mtime > report_md.stat().st_mtime for v in vectors
    )
    if stale:
        print(
            "\nNext: `snakemake --cores 4 results/similarity_report.md` trains any missing model and "
            "writes the report, its figures and results/explorer.html (open it in a browser)."
        )
    else:
        print(
            "\nReport: results/similarity_report.md; explorer: results/explorer.html (open it in a "
            "browser); HTML report: `snakemake --report results/report.html`."
        )
