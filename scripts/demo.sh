#!/usr/bin/env bash
# The main job: builds Honyaku (the same release build the tests use) and runs `honyaku demo`:
# a synthetic English→Japanese-like corpus, LSTM vs attention vs Transformer on the CPU, a
# report with plots. Nothing is downloaded. Extra arguments go to `honyaku demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
# --workspace gives the same dependency features as `cargo test --workspace`, so the build is
# shared with scripts/test.sh instead of compiling Burn twice.
cargo build --release --workspace --locked
exec "${CARGO_TARGET_DIR:-target}/release/honyaku" demo "$@"
