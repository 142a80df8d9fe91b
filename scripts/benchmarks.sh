#!/usr/bin/env bash
# Measures everything BENCHMARKS.md reports, in one session on one machine, and keeps the raw
# outputs. Usage: scripts/benchmarks.sh [OUT_DIR]
#   TORCH_PYTHON=/path/to/python   also time PyTorch's identical step (scripts/torch_reference.py)
#   TORCH_ARGS="--threads 2"       its arguments ("--device cuda" on a GPU machine)
#   COMPARE_VARIANT=register-tile  also run `bench step` and `bench matmul` under that kernel variant,
#                                  alternating with the default one (ratios side by side)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out}
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/infogan
$bin devices | tee "$out/devices.txt"
$bin bench step --batch 64,128 --repeats 5 | tee "$out/step.txt"
# The same step's kernels split by dispatch grid: which shape of each kernel takes the time.
$bin bench step --batch 64 --repeats 1 --by-grid | tee "$out/step-by-grid.txt"
$bin bench kernels --batch 64,128 --repeats 5 | tee "$out/kernels.txt"
$bin bench matmul | tee "$out/matmul.txt"
$bin bench conv | tee "$out/conv.txt"
if [ -n "${COMPARE_VARIANT:-}" ]; then
  # Alternate the two so that drift on a shared machine hits both alike.
  for round in 1 2; do
    $bin bench step --batch 64 --repeats 3 | tee "$out/step-default-$round.txt"
    $bin --variant "$COMPARE_VARIANT" bench step --batch 64 --repeats 3 | tee "$out/step-$COMPARE_VARIANT-$round.txt"
    $bin bench matmul | tee "$out/matmul-default-$round.txt"
    $bin --variant "$COMPARE_VARIANT" bench matmul | tee "$out/matmul-$COMPARE_VARIANT-$round.txt"
  done
fi
if [ -n "${TORCH_PYTHON:-}" ]; then
  # shellcheck disable=SC2086
  "$TORCH_PYTHON" scripts/torch_reference.py --batch 64,128 ${TORCH_ARGS:---threads 2} | tee "$out/torch.txt"
fi
