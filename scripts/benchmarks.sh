#!/usr/bin/env bash
# Measures everything BENCHMARKS.md reports, on this machine, in one run: the raw JSON of every
# benchmark goes to OUT_DIR, and OUT_DIR/summary.md holds the tables, keyed by date, commit, CPU,
# driver and adapter, ready to paste as a new section of BENCHMARKS.md.
# Usage: scripts/benchmarks.sh [OUT_DIR]
#   TORCH_PYTHON=/path/to/python   also time PyTorch's identical MNIST step (scripts/torch_reference.py)
#   TORCH_ARGS="--threads 2"       its arguments ("--device cuda" on a machine with a GPU)
#   QUICK=1                        fewer repeats and batch 64 only (a check that everything runs)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out}
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/infogan
if [ "${QUICK:-0}" = 1 ]; then repeats=1 batches=64 torch_repeats=2; else repeats=5 batches=64,128 torch_repeats=10; fi
{
  echo "date: $(date -u +%Y-%m-%d)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src shaders || echo ' (with uncommitted changes)')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
} >"$out/machine.txt"
$bin devices >"$out/devices.txt"
$bin bench step --batch "$batches" --repeats "$repeats" --json >"$out/step.json"
# The same step's kernels split by dispatch grid: which shape of each kernel takes the time.
$bin bench step --batch 64 --repeats 1 --by-grid --json >"$out/step-by-grid.json"
: >"$out/models.jsonl"
for model in svhn celeba faces chairs shapes shapes32; do
  $bin bench step --model "$model" --batch 64 --repeats "$((repeats < 3 ? repeats : 3))" --json >>"$out/models.jsonl"
done
$bin bench kernels --batch "$batches" --repeats "$repeats" --json >"$out/kernels.json"
$bin bench matmul --json >"$out/matmul.json"
# The variant real GPUs get, on this adapter: a regression baseline for its kernels.
$bin --variant workgroup-tile bench matmul --json >"$out/matmul-workgroup-tile.json"
$bin bench conv --batch "$batches" --json >"$out/conv.json"
if [ -n "${TORCH_PYTHON:-}" ]; then
  # shellcheck disable=SC2086
  "$TORCH_PYTHON" scripts/torch_reference.py --batch "$batches" --repeats "$torch_repeats" ${TORCH_ARGS:---threads 2} --json >"$out/torch.jsonl"
fi
python3 scripts/benchmarks_summary.py "$out" >"$out/summary.md"
echo "wrote $out/summary.md"
