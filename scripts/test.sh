#!/usr/bin/env bash
# The test command: installs what the tests need (Mesa's lavapipe, a Vulkan driver on the CPU,
# so the wgpu backend runs without a GPU; Debian's chromium and chromium-driver for the browser
# test of `honyaku serve`) and runs every test in the release profile, the same profile as the
# binary, so dependencies are compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Mesa's lavapipe (Vulkan on the CPU) for the wgpu tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "note: no lavapipe Vulkan driver found; install mesa-vulkan-drivers and libvulkan1" \
         "(Debian/Ubuntu) or the wgpu agreement test will fail" >&2
  fi
fi

if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver for the browser test of honyaku serve..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: no chromium/chromedriver found; install chromium and chromium-driver" \
         "(Debian) or the browser test of honyaku serve will fail" >&2
  fi
fi

cargo fmt --all -- --check
if command -v python3 >/dev/null; then python3 scripts/module_cycles.py crates/*/src; fi
cargo test --release --workspace --locked "$@"
