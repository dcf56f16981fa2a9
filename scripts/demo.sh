#!/usr/bin/env bash
# The main job: builds Honyaku (the same release build the tests use) and runs `honyaku demo`:
# a synthetic English→Japanese-like corpus, LSTM vs attention vs Transformer on the CPU, a
# report with plots. Nothing is downloaded. Extra arguments go to `honyaku demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
# --workspace --all-targets gives the same dependency features as `cargo test --workspace` (the
# test-only dependencies of `serve`'s browser test enable features of crates Burn uses too), so
# the build is shared with scripts/test.sh instead of compiling Burn twice.
cargo build --release --workspace --all-targets --locked
exec "${CARGO_TARGET_DIR:-target}/release/honyaku" demo "$@"
