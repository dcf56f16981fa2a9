#!/usr/bin/env bash
# The test command: installs what the tests need (Mesa's lavapipe, a Vulkan driver on the CPU,
# so the wgpu backend runs without a GPU; Debian's chromium and chromium-driver for the browser
# test of `honyaku serve`; OpenMPI for the --distributed mpi tests) and runs every test in the
# release profile, the same profile as the binary, so dependencies are compiled once.
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

# OpenMPI (and libclang, which the `mpi` crate's bindings generator needs) for the tests of
# `train --distributed mpi`, which run several processes under mpirun on this machine.
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null \
   || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing OpenMPI and libclang for the --distributed mpi tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenmpi-dev openmpi-bin clang \
      libclang-dev >/dev/null
  else
    echo "note: OpenMPI or libclang is missing; install libopenmpi-dev, openmpi-bin, clang and" \
         "libclang-dev (Debian/Ubuntu) or the --distributed mpi tests will fail" >&2
  fi
fi

cargo fmt --all -- --check
if command -v python3 >/dev/null; then python3 scripts/module_cycles.py crates/*/src; fi
cargo test --release --workspace --locked "$@"
# The trainer built with MPI: mpirun -np 2 on this machine (root is allowed in the tests).
# `--workspace` with the feature named by package, so that the dependencies keep the features
# of the workspace build and are not compiled again.
cargo test --release --workspace --features honyaku/mpi --locked --test mpi
