#!/usr/bin/env bash
# For a machine with a GPU but no Rust toolchain (and perhaps no network): build here, copy one
# tarball there, run one script there.
#
#   here:   scripts/gpu_bundle.sh            -> target/gpu-bundle.tar.xz (about 25 MB)
#   there:  tar -xJf gpu-bundle.tar.xz && bash gpu-bundle/run.sh OUT_DIR
#
# The bundle holds the stripped release binary, every test binary that dispatches kernels, the
# benchmark summariser, PyTorch's reference step, run.sh, and the Vulkan loader and glvnd
# packages (NVIDIA's Vulkan driver is libGLX_nvidia, which needs glvnd) for machines that lack
# them. Build on the same architecture and an equal or older glibc than the GPU machine's.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
bundle="$stage/gpu-bundle"
mkdir -p "$bundle/bin" "$bundle/debs"
cp target/release/infogan "$bundle/bin/"
# cargo prints one JSON line per artifact; each test target's line names its executable.
artifacts=$(cargo test --release --no-run --message-format=json 2>/dev/null)
for exe in $(grep -F '"kind":["test"]' <<<"$artifacts" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p'); do
  name=$(basename "$exe" | sed 's/-[0-9a-f]*$//')
  # No GPU in these, or they start the binary from the build's own path.
  case "$name" in cli|data|download|eval_metrics|factors|shaders_validate|translate|run|presets) continue ;; esac
  cp "$exe" "$bundle/bin/test-$name"
done
strip "$bundle"/bin/*
cp scripts/gpu_run.sh "$bundle/run.sh"
cp scripts/benchmarks_summary.py scripts/torch_reference.py "$bundle/"
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src shaders || echo ' (with uncommitted changes)')" >"$bundle/commit"
# amd64 packages of the loaders, fetched with package lists kept out of the system's.
lists=$(mktemp -d)
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
mkdir -p "$lists/partial"
apt-get "${apt_opts[@]}" update -qq
(cd "$bundle/debs" && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
rm -rf "$lists"
mkdir -p target
tar -cJf target/gpu-bundle.tar.xz -C "$stage" gpu-bundle
echo "wrote target/gpu-bundle.tar.xz ($(du -h target/gpu-bundle.tar.xz | cut -f1)): copy it to the GPU machine and run"
echo "  tar -xJf gpu-bundle.tar.xz && bash gpu-bundle/run.sh OUT_DIR"
