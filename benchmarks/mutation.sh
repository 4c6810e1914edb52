#!/usr/bin/env bash
# Mutation testing with mutmut 3 (not in CI: a module takes minutes to an hour on 2 cores).
#   bash benchmarks/mutation.sh                 list the modules and their test files
#   bash benchmarks/mutation.sh MODULE ...      run those modules (e.g. checkpoint sampling)
#   bash benchmarks/mutation.sh all             run every module
# Each module runs in its own copy of the repository under .mutation/MODULE/ (mutmut reads its settings
# from the working folder, and separate folders let two modules run at once), mutating that one
# file and running only its test files, and only the tests that reach the mutated function.
# Results: .mutation/MODULE/results.txt (one line per mutant not killed) and a score line per module
# on stdout; `cd .mutation/MODULE && mutmut show NAME` prints a mutant's diff.
# Env: MUTATION_CHILDREN (parallel mutants, default 2), MUTATION_NICE (default 10),
# MUTATION_TIMEOUT_MULTIPLIER (default 15; 3 stops looping mutants sooner, as for corpus).
# The score and the reviewed survivors of each run are in docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

# module -> "source file|test files" (the tests that exercise it; slow and GPU tests are left out below)
declare -A MODULES=(
    [checkpoint]="src/w2v/training/checkpoint.py|tests/test_resume_fingerprint.py"
    [sampling]="src/w2v/training/sampling.py|tests/test_sampling_contract.py tests/test_train_sampling.py tests/test_train_semantics.py tests/test_train_hogwild.py"
    [loop]="src/w2v/training/loop.py|tests/test_loop_edges.py tests/test_train_pipeline.py tests/test_train_semantics.py tests/test_train_hogwild.py tests/test_train_outputs.py tests/test_train_fake_device.py tests/test_train.py"
    [pipeline]="src/w2v/training/pipeline.py|tests/test_pipeline_edges.py tests/test_train_sampling.py tests/test_train_pipeline.py tests/test_train_pinned.py tests/test_train_fake_device.py tests/test_train_semantics.py"
    [reader]="src/w2v/training/reader.py|tests/test_reader.py tests/test_train_sampling.py tests/test_train_pipeline.py tests/test_train_hogwild.py tests/test_train.py"
    [settings]="src/w2v/training/settings.py|tests/test_train_settings.py tests/test_train_pinned.py tests/test_resume_fingerprint.py"
    [registry]="src/w2v/training/registry.py|tests/test_models.py tests/test_train_pinned.py tests/test_train.py tests/test_train_fake_device.py"
    [hogwild]="src/w2v/training/hogwild.py|tests/test_hogwild_edges.py tests/test_train_hogwild.py tests/test_train_outputs.py tests/test_train.py"
    [optim]="src/w2v/training/optim.py|tests/test_optim_edges.py tests/test_train.py tests/test_models.py"
    [train]="src/w2v/training/train.py|tests/test_train_edges.py tests/test_train_chars.py tests/test_train.py tests/test_resume_fingerprint.py tests/test_train_outputs.py tests/test_train_semantics.py tests/test_train_device.py tests/test_train_pinned.py tests/test_train_fake_device.py"
    [ops]="src/w2v/training/ops.py|tests/test_ops_edges.py tests/test_models.py tests/test_models_edges.py tests/test_models_chars.py tests/test_pipeline_edges.py tests/test_train_fake_device.py tests/test_train_pinned.py"
    [models]="src/w2v/training/models.py|tests/test_models_edges.py tests/test_models.py tests/test_models_chars.py tests/test_train_outputs.py tests/test_train_semantics.py tests/test_train_pinned.py"
    [word2vec_format]="src/w2v/vectors/word2vec_format.py|tests/test_word2vec_format_edges.py tests/test_vectors.py tests/test_export.py"
    [vectors]="src/w2v/vectors/keyed.py|tests/test_vectors.py tests/test_vectors_edges.py tests/test_vectors_chars.py tests/test_evaluation.py tests/test_neighbors.py tests/test_export.py"
    # corpus: test_sharding.py runs every pipeline stage for three shard counts (minutes a mutant), so
    # the corpus tests alone; test_sharding.py stays the end-to-end check.
    [corpus]="src/w2v/text/corpus.py|tests/test_text_corpus.py tests/test_corpus_edges.py"
    [vocab]="src/w2v/data/vocab.py|tests/test_vocab_edges.py tests/test_vocab.py tests/test_count_merge.py tests/test_pairs.py"
    [pairs]="src/w2v/data/pairs.py|tests/test_pairs.py tests/test_pairs_edges.py tests/test_train_pipeline.py"
    # counts: test_cli.py reads data/userdict.txt, which the copy lacks, so the counts tests without it.
    [counts]="src/w2v/data/counts.py|tests/test_counts_edges.py tests/test_count_merge.py tests/test_vocab.py"
    [count_merge]="src/w2v/data/count_merge.py|tests/test_count_merge_edges.py tests/test_count_merge.py"
    [chars]="src/w2v/data/chars.py|tests/test_chars.py tests/test_chars_edges.py tests/test_models_chars.py tests/test_vectors_chars.py"
)
ORDER=(checkpoint sampling loop word2vec_format pipeline reader settings registry hogwild optim train ops models vectors corpus vocab pairs counts count_merge chars)

if [[ $# -eq 0 ]]; then
    for name in "${ORDER[@]}"; do printf '%-16s %s\n' "$name" "${MODULES[$name]//|/   <- }"; done
    exit 0
fi
[[ "$1" == all ]] && set -- "${ORDER[@]}"
python3 -c "import mutmut" 2>/dev/null || python3 -m pip install -q "mutmut>=3.3,<4"

run_module() {
    local name="$1" source tests work
    source="${MODULES[$name]%%|*}"
    tests="${MODULES[$name]#*|}"
    work="$root/.mutation/$name"
    rm -rf "$work"  # a fresh copy: cached verdicts would hide what a changed test now kills
    mkdir -p "$work"
    cp -r "$root/src" "$root/tests" "$work/"
    # Some tests read the shipped eval files (data/eval) or the README, by paths from the repository root.
    mkdir -p "$work/data" && cp -r "$root/data/eval" "$work/data/" && cp "$root/README.md" "$work/"
    # mutmut reads [mutmut] from setup.cfg when pyproject.toml has no [tool.mutmut]; `testpaths`
    # there would otherwise pull in the whole suite.
    grep -v '^testpaths' "$root/pyproject.toml" > "$work/pyproject.toml"
    {
        echo "[mutmut]"
        echo "source_paths = src"
        echo "only_mutate = $source"
        printf 'also_copy =\n    data/eval\n    README.md\n'
        echo "pytest_add_cli_args_test_selection ="
        for t in $tests; do [[ -f "$root/$t" ]] && echo "    $t"; done
        echo "pytest_add_cli_args ="
        printf '    %s\n' -p no:cacheprovider -m "not slow and not gpu"
        # A mutant that loops forever is stopped after (test time + 1 s) * 2 * this many CPU seconds.
        echo "timeout_multiplier = ${MUTATION_TIMEOUT_MULTIPLIER:-15}"
    } > "$work/setup.cfg"
    (cd "$work" && nice -n "${MUTATION_NICE:-10}" mutmut run --max-children "${MUTATION_CHILDREN:-2}" \
        > run.log 2>&1) || { echo "$name: mutmut failed, see $work/run.log"; tail -20 "$work/run.log"; return 1; }
    (cd "$work" && mutmut results --all true > all.txt 2>&1 || true; mutmut results > results.txt 2>&1 || true)
    local total killed
    total=$(grep -c ': ' "$work/all.txt" || true)
    killed=$(grep -c ': killed' "$work/all.txt" || true)
    echo "$name: $killed killed of $total mutants; not killed:"
    sed 's/^/    /' "$work/results.txt"
}

status=0
for name in "$@"; do
    [[ -n "${MODULES[$name]:-}" ]] || { echo "unknown module $name; run without arguments for the list"; exit 2; }
    run_module "$name" || status=1
done
exit $status
