#!/usr/bin/env bash
# Prepares, on this (x86-64 Debian) machine, what scripts/device_bench.sh needs on a lent GPU
# machine, which has no Rust toolchain, no network and no Vulkan loader:
#   .device/infogan.tar.xz  the release binary and the GPU test binaries, stripped (about 22 MB)
#   .gl/*.deb               the Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan
#                           driver links against, unpacked there by device_bench.sh
# Both folders are git-ignored. Then one call of the device tool does the rest:
#   run(command="bash scripts/device_bench.sh", carry=[".device", ".gl"], timeout_s=540)
set -euo pipefail
cd "$(dirname "$0")/.."

# Every test binary that dispatches kernels (the CLI, data and download tests need no GPU).
tests="matmul conv batchnorm elementwise_reduce losses_adam gather tape cnn parity train steady_state runtime"

cargo build --release --quiet
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp target/release/infogan "$stage/"
# cargo prints one JSON line per artifact; a test target's line names it and its executable.
artifacts=$(cargo test --release --no-run --message-format=json 2>/dev/null)
for t in $tests; do
  exe=$(grep -F '"kind":["test"]' <<<"$artifacts" | grep -F "\"name\":\"$t\"" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | head -n 1)
  if [ -z "$exe" ]; then
    echo "device_prepare: no test binary for '$t' (renamed? update the list above)" >&2
    exit 1
  fi
  cp "$exe" "$stage/$t"
done
strip "$stage"/*
mkdir -p .device
tar -cJf .device/infogan.tar.xz -C "$stage" .
echo "packed $(ls "$stage" | wc -l) binaries into .device/infogan.tar.xz ($(du -h .device/infogan.tar.xz | cut -f1))"

# The loaders, as the device tool's README lists them (NVIDIA's Vulkan driver is libGLX_nvidia,
# which needs glvnd): amd64 packages, lists kept out of the system's.
mkdir -p .gl /tmp/amd64/partial
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_opts[@]}" update -qq
(cd .gl && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
ls .gl
