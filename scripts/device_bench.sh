#!/usr/bin/env bash
# Runs on a lent GPU machine, from the repository root, after scripts/device_prepare.sh here:
# the GPU tests (which cover the variants that adapter runs, workgroup-tile among them), every
# benchmark BENCHMARKS.md reports, and PyTorch's identical step on CUDA for the side-by-side.
# Writes six files to $OUT (the device tool returns at most eight); each step has its own time
# limit so that one hang cannot cost the rest. QUICK=1 shortens the benchmarks and
# TEST_TIMEOUT (seconds per test binary, 240 by default) lengthens the tests, for a dry run on
# lavapipe. Usage: bash scripts/device_bench.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device-out}
mkdir -p "$out"
quick=${QUICK:-0}

# The Vulkan loader, glvnd (NVIDIA's Vulkan driver is libGLX_nvidia) and the driver's manifest,
# where the machine lacks them.
if ! ldconfig -p | grep -q 'libvulkan\.so\.1' || ! ldconfig -p | grep -q 'libGLdispatch\.so\.0'; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd
fi

# Unpacked outside the tree, so that a dry run here leaves .device small enough to carry.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
tar -xJf .device/infogan.tar.xz -C "$bin"

{
  date -u
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; fi
  "$bin/infogan" devices
} >"$out/devices.txt" 2>&1

# Tests: every test binary device_prepare.sh packed (all but infogan itself). A failure is
# recorded and the benchmarks still run.
{
  for exe in "$bin"/*; do
    t=$(basename "$exe")
    [ "$t" = infogan ] && continue
    echo "== $t"
    timeout "${TEST_TIMEOUT:-240}" "$exe" --test-threads 4 2>&1 | grep -E '^(test |test result|failures|---- |thread )' || echo "$t: exit status $?"
  done
} >"$out/tests.txt" 2>&1

if [ "$quick" = 1 ]; then
  repeats=1 batches=64 torch_repeats=2
else
  repeats=20 batches=64,128 torch_repeats=50
fi
{
  timeout 240 "$bin/infogan" bench step --batch "$batches" --repeats "$repeats"
  timeout 120 "$bin/infogan" bench step --batch 64 --repeats 1 --by-grid
} >"$out/step.txt" 2>&1
timeout 300 "$bin/infogan" bench kernels --batch "$batches" --repeats "$((repeats < 5 ? repeats : 5))" >"$out/kernels.txt" 2>&1
{
  timeout 180 "$bin/infogan" bench matmul $([ "$quick" = 1 ] && echo --quick)
  timeout 180 "$bin/infogan" bench conv --batch "$batches" --repeats "$((repeats < 9 ? repeats : 9))"
} >"$out/matmul-conv.txt" 2>&1
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  {
    timeout 240 python3 scripts/torch_reference.py --device cuda --batch "$batches" --repeats "$torch_repeats"
    timeout 240 python3 scripts/torch_reference.py --device cuda --batch "$batches" --repeats "$torch_repeats" --tf32
  } >"$out/torch.txt" 2>&1
else
  echo "no CUDA PyTorch here; skipped" >"$out/torch.txt"
fi
ls -l "$out"
