rule train:
    output:
        vec="results/{model}.vec",
    wildcard_constraints:
        model="cbow|skipgram",
    shell:
        "w2v train"
