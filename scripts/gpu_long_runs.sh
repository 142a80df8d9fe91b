#!/usr/bin/env bash
# The long runs, on one machine with a GPU, all at once (one run leaves most of a large GPU idle):
#   - the paper's MNIST schedule (batch 128, 5,000 steps) on seeds 0-2, seed 0 with bound probes;
#   - the 64x64 shapes model and its PyTorch twin (scripts/torch_train.py), same settings and steps;
#   - PyTorch's MNIST runs at the paper's schedule on seeds 0-2, where a CUDA PyTorch is installed;
#   - a second wave once the first shows there is time: seeds 3-5 at batch 128 and seeds 0-2 of
#     the batch-64, 2,000-step schedule.
# Every run stops at LIMIT seconds whatever its step (Ctrl-C semantics: a checkpoint, then exit),
# and the runs' small records (config, metrics, evaluations, probes, logs, wall times, grids every
# 1,000 steps; no checkpoints) are packed into OUT/records.tar.gz.
#
# Usage: bash scripts/gpu_long_runs.sh BINARY MNIST_DIR OUT [LIMIT]
#   BINARY: a release build of infogan; MNIST_DIR: MNIST's four IDX files (gz); LIMIT: seconds (480)
#   MNIST_STEPS, SHAPES_STEPS, B64_STEPS, SECOND_WAVE=0|1 override the schedule (for a dry run).
set -uo pipefail
bin=$(realpath "$1") mnist=$(realpath "$2") out=$(mkdir -p "$3" && realpath "$3") limit=${4:-480}
repo=$(cd "$(dirname "$0")/.." && pwd)
mnist_steps=${MNIST_STEPS:-5000} shapes_steps=${SHAPES_STEPS:-5000} b64_steps=${B64_STEPS:-2000}
runs=$(mktemp -d)/runs
mkdir -p "$runs"
started=$(date +%s)

# The Vulkan loader and glvnd where the machine lacks them, and NVIDIA's driver manifest.
if ! ldconfig -p | grep -q 'libvulkan\.so\.1' && [ -d "$repo/.gl" ]; then
  for f in "$repo"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  command -v nvidia-smi >/dev/null && echo "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n 1)"
  "$bin" devices 2>&1
} >"$runs/machine.txt"
cat "$runs/machine.txt"

# One run in the background: its output in NAME.log, its wall time in NAME.time.
launch() {
  local name=$1; shift
  (
    t0=$(date +%s)
    timeout -s INT -k 30 "$limit" "$@" >"$runs/$name.log" 2>&1
    echo "exit $? after $(($(date +%s) - t0)) s wall" >"$runs/$name.time"
  ) &
}
ours_mnist() { # NAME BATCH STEPS SEED [flags..]
  local name=$1 batch=$2 steps=$3 seed=$4; shift 4
  launch "$name" "$bin" train --data "$mnist" --batch "$batch" --steps "$steps" --seed "$seed" \
    --sample-every 250 --checkpoint-every 1000 --keep 1 --out "$runs/$name" "$@"
}
torch_ok=0
# TORCH_CPU=1 runs the PyTorch twins without a GPU too (a dry run of this script).
python3 -c 'import torch, os, sys; sys.exit(0 if torch.cuda.is_available() or os.environ.get("TORCH_CPU") == "1" else 1)' 2>/dev/null && torch_ok=1
export OMP_NUM_THREADS=2

ours_mnist full-b128-s0 128 "$mnist_steps" 0 --probe-every 500 --probe-steps 50
ours_mnist full-b128-s1 128 "$mnist_steps" 1
ours_mnist full-b128-s2 128 "$mnist_steps" 2
launch shapes-s0 "$bin" train --data shapes --batch 64 --steps "$shapes_steps" --seed 0 \
  --sample-every 250 --checkpoint-every 1000 --keep 1 --out "$runs/shapes-s0"
if [ "$torch_ok" = 1 ]; then
  launch torch-shapes-s0 python3 "$repo/scripts/torch_train.py" --model shapes --steps "$shapes_steps" --seed 0 \
    --binary "$bin" --out "$runs/torch-shapes-s0"
  for s in 0 1 2; do
    launch "torch-mnist-b128-s$s" python3 "$repo/scripts/torch_train.py" --model mnist --data "$mnist" --batch 128 \
      --steps "$mnist_steps" --seed "$s" --binary "$bin" --out "$runs/torch-mnist-b128-s$s"
  done
fi

# The second wave, if seed 0's pace after a minute says the first wave ends within 40% of LIMIT.
sleep 60
last_step() { tail -n 1 "$runs/$1/metrics.jsonl" 2>/dev/null | sed -n 's/.*"step":\([0-9]*\).*/\1/p'; }
done_steps=$(last_step full-b128-s0)
echo "after 60 s: seed 0 at step ${done_steps:-0} of $mnist_steps"
if [ "${SECOND_WAVE:-1}" = 1 ] && [ "${done_steps:-0}" -gt 0 ] && [ $((mnist_steps * 60 / done_steps)) -lt $((limit * 4 / 10)) ]; then
  for s in 3 4 5; do ours_mnist "full-b128-s$s" 128 "$mnist_steps" "$s"; done
  for s in 0 1 2; do ours_mnist "full-b64-s$s" 64 "$b64_steps" "$s"; done
  echo "second wave started"
fi
wait
echo "all runs ended after $(($(date +%s) - started)) s"
for t in "$runs"/*.time; do echo "$(basename "$t" .time): $(cat "$t"), last step $(last_step "$(basename "$t" .time)")"; done

# The small records: everything but checkpoints, grids only every 1,000 steps and the last.
cd "$runs" && find . -path '*/checkpoints' -prune -o -type f -print | while read -r f; do
  case "$f" in
    */samples/step-*)
      step=$(basename "$f" | sed 's/step-\([0-9]*\)-.*/\1/')
      last=$(ls "$(dirname "$f")" | sed 's/step-\([0-9]*\)-.*/\1/' | sort -n | tail -n 1)
      if [ $((step % 1000)) = 0 ] || [ "$step" = "$last" ]; then echo "$f"; fi ;;
    *) echo "$f" ;;
  esac
done >"$runs/../files.txt"
tar -czf "$out/records.tar.gz" -T "$runs/../files.txt"
ls -l "$out"
