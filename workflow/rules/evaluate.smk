rule evaluate:
    output:
        report="results/similarity_report.md",
    shell:
        "w2v evaluate"
