#!/usr/bin/env bash
# Runs on a machine with a GPU, from the folder scripts/gpu_bundle.sh packed: the GPU tests (which
# cover the variants that adapter runs, workgroup-tile among them), every benchmark of
# BENCHMARKS.md as JSON, PyTorch's identical step where a CUDA PyTorch is installed, and
# OUT_DIR/summary.md. Each part has its own time limit, so one hang cannot cost the rest.
# Usage: bash gpu-bundle/run.sh OUT_DIR     (QUICK=1: fewer repeats, for a dry run)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-gpu-out}" && cd "${1:-gpu-out}" && pwd)
bin="$here/bin"

# The Vulkan loader and glvnd where the machine lacks them, and NVIDIA's driver manifest.
if ! ldconfig -p | grep -q 'libvulkan\.so\.1' || ! ldconfig -p | grep -q 'libGLdispatch\.so\.0'; then
  for f in "$here"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd
fi

if [ "${QUICK:-0}" = 1 ]; then repeats=1 batches=64 torch_repeats=2; else repeats=20 batches=64,128 torch_repeats=50; fi
{
  echo "date: $(date -u +%Y-%m-%d)"
  echo "commit: $(cat "$here/commit")"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  if command -v nvidia-smi >/dev/null; then echo "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n 1)"; fi
} >"$out/machine.txt"
"$bin/infogan" devices >"$out/devices.txt" 2>&1

# Tests: every packed test binary (their goldens are compiled in).
for exe in "$bin"/test-*; do
  echo "== $(basename "$exe")"
  timeout "${TEST_TIMEOUT:-300}" "$exe" --test-threads 4 2>&1 | grep -E '^(test |test result|failures|---- |thread )' || echo "exit status $?"
done >"$out/tests.txt" 2>&1

b="$bin/infogan"
timeout 300 "$b" bench step --batch "$batches" --repeats "$repeats" --json >"$out/step.json" 2>>"$out/errors.txt"
timeout 120 "$b" bench step --batch 64 --repeats 1 --by-grid --json >"$out/step-by-grid.json" 2>>"$out/errors.txt"
: >"$out/models.jsonl"
for model in svhn celeba faces chairs shapes shapes32; do
  timeout 120 "$b" bench step --model "$model" --batch 64 --repeats "$repeats" --json >>"$out/models.jsonl" 2>>"$out/errors.txt"
done
timeout 300 "$b" bench kernels --batch "$batches" --repeats "$((repeats < 5 ? repeats : 5))" --json >"$out/kernels.json" 2>>"$out/errors.txt"
timeout 180 "$b" bench matmul --json >"$out/matmul.json" 2>>"$out/errors.txt"
cp "$out/matmul.json" "$out/matmul-workgroup-tile.json"
timeout 180 "$b" bench conv --batch "$batches" --repeats 9 --json >"$out/conv.json" 2>>"$out/errors.txt"
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  timeout 240 python3 "$here/torch_reference.py" --device cuda --batch "$batches" --repeats "$torch_repeats" --json >"$out/torch.jsonl" 2>>"$out/errors.txt"
  timeout 240 python3 "$here/torch_reference.py" --device cuda --batch "$batches" --repeats "$torch_repeats" --tf32 --json >"$out/torch-tf32.jsonl" 2>>"$out/errors.txt"
fi
python3 "$here/benchmarks_summary.py" "$out" >"$out/summary.md" 2>>"$out/errors.txt"
ls -l "$out"
