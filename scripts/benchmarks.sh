#!/usr/bin/env bash
# Measures everything BENCHMARKS.md reports, in one session on one machine, and keeps the raw
# outputs. Usage: scripts/benchmarks.sh [OUT_DIR]
#   TORCH_PYTHON=/path/to/python   also time PyTorch's identical step (scripts/torch_reference.py)
#   TORCH_ARGS="--threads 2"       its arguments ("--device cuda" on a GPU machine)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out}
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/infogan
$bin devices | tee "$out/devices.txt"
$bin bench step --batch 64,128 --repeats 5 | tee "$out/step.txt"
$bin bench kernels --batch 64,128 --repeats 5 | tee "$out/kernels.txt"
$bin bench matmul | tee "$out/matmul.txt"
$bin bench conv | tee "$out/conv.txt"
if [ -n "${TORCH_PYTHON:-}" ]; then
  # shellcheck disable=SC2086
  "$TORCH_PYTHON" scripts/torch_reference.py --batch 64,128 ${TORCH_ARGS:---threads 2} | tee "$out/torch.txt"
fi
