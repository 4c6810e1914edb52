#!/usr/bin/env bash
# GPU checks in one command, for a machine with an NVIDIA GPU and CuPy:
#   bash benchmarks/gpu.sh [tests|bench|all]   (default: all)
# tests: every CUDA case of the test suite (pytest -m gpu tests); bench: where a training step's time goes
# (profile_step.py), the autograd-overhead benchmark on cuda and cpu, then word2vec training speed on
# the GPU against gensim on the CPU; GPU_SWEEP="BATCH:ALPHA ..." adds runs of ours alone at other
# batch sizes and learning rates (speed and alias scores, to compare with the gensim rows).
# Needs the package with its test and GPU extras (`pip install -e '.[test,gpu]'`, or `gpu-cuda12`): the
# tests are collected from the whole suite. The benchmark reads results/tokens/ (the clean shards) made
# beforehand by the workflow (`snakemake --cores 4 text`).
# Figures are also written under ${GPU_OUT:-results/gpu}/.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${GPU_OUT:-results/gpu}"
mkdir -p "$out"
what="${1:-all}"
status=0

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
python3 -c "import cupy, numpy; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'devices', cupy.cuda.runtime.getDeviceCount())" | tee -a "$out/device.txt"

if [[ "$what" == tests || "$what" == all ]]; then
    # Every gpu-marked test, wherever it sits (a list of files here once missed the examples' and the
    # character models' device tests).
    python3 -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tee "$out/pytest-gpu.txt" || status=1
fi
if [[ "$what" == bench || "$what" == all ]]; then
    python3 benchmarks/profile_step.py --device cuda --batch 65536 262144 --steps 20 2>&1 | tee "$out/profile_step-cuda.txt" || status=1
    for device in cuda cpu; do
        python3 benchmarks/autograd_overhead.py --device "$device" --steps 30 --rounds 3 2>&1 | tee "$out/autograd_overhead-$device.txt" || status=1
    done
    # Word2vec on the GPU against gensim on this machine's CPU (2 workers, as on the 2-core target),
    # on the novel repeated 10 times, with config/gpu.yaml's settings (row-wise Adagrad for large
    # batches; a 1M-row shuffle buffer, so masks, shuffles and draws run once per million rows).
    python3 benchmarks/compare_gensim.py --device cuda --repeat "${GPU_REPEAT:-10}" --epochs "${GPU_EPOCHS:-5}" \
        --config config/gpu.yaml --json "$out/compare_gensim-cuda.json" 2>&1 | tee "$out/compare_gensim-cuda.txt" || status=1
    for point in ${GPU_SWEEP:-}; do
        python3 benchmarks/compare_gensim.py --device cuda --repeat "${GPU_REPEAT:-10}" --epochs "${GPU_EPOCHS:-5}" \
            --config config/gpu.yaml --skip-gensim --set batch_size="${point%%:*}" --set alpha="${point##*:}" \
            2>&1 | tee "$out/compare_gensim-cuda-${point%%:*}-${point##*:}.txt" || status=1
    done
fi
exit "$status"
