#!/usr/bin/env bash
# The benchmark suite: `honyaku bench` for every architecture on every CPU backend (flex,
# ndarray, and wgpu when a Vulkan driver is present: on a machine without a GPU that is Mesa's
# lavapipe, and the table says so), plus each backend's 1024³ matmul rate. Writes the JSON of
# every run to $BENCH_OUT (default runs/bench) and the table, with a description of the machine,
# between the markers of docs/BENCHMARKS.md.
#
#   BENCH_ARCHS="lstm attention transformer"  BENCH_BACKENDS="flex ndarray wgpu"
#   BENCH_STEPS=10  BENCH_WGPU_STEPS=2  BENCH_OUT=runs/bench  scripts/bench.sh [extra bench args]
#
# `scripts/bench.sh --side-by-side`: honyaku against a PyTorch reference on this machine
# instead, alternating the two (scripts/bench_side.sh, which says how to narrow it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --side-by-side ]; then shift; exec scripts/bench_side.sh "$@"; fi
# The same dependency features as `cargo test --workspace` (see demo.sh).
cargo build --release --workspace --all-targets --locked
bin="${CARGO_TARGET_DIR:-target}/release/honyaku"
command -v jq >/dev/null || { echo "scripts/bench.sh needs jq" >&2; exit 1; }

archs=${BENCH_ARCHS:-lstm attention transformer}
backends=${BENCH_BACKENDS:-flex ndarray wgpu}
out=${BENCH_OUT:-runs/bench}
doc=docs/BENCHMARKS.md
mkdir -p "$out" docs

# The wgpu label: lavapipe when it is the only Vulkan driver that answers.
wgpu_label=wgpu
if command -v vulkaninfo >/dev/null; then
  if vulkaninfo --summary 2>/dev/null | grep -qi llvmpipe \
     && ! vulkaninfo --summary 2>/dev/null | grep -i deviceType | grep -qvi CPU; then
    wgpu_label="wgpu (lavapipe, CPU)"
  fi
elif ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && ! ls /dev/dri/renderD* >/dev/null 2>&1; then
  wgpu_label="wgpu (lavapipe, CPU)"
fi

label() { if [ "$1" = wgpu ]; then echo "$wgpu_label"; else echo "$1"; fi; }

load_start=$(uptime | sed 's/.*load average: //')
rows=()
for backend in $backends; do
  if ! "$bin" bench --matmul --backend "$backend" > "$out/matmul-$backend.json" 2> "$out/matmul-$backend.err"; then
    echo "skipping $backend: $(tail -1 "$out/matmul-$backend.err")" >&2
    continue
  fi
  matmul=$(jq '.matmul.gflops_per_second' "$out/matmul-$backend.json")
  rows+=("| $(label "$backend") | matmul 1024³ | | | | | | | $(printf %.0f "$matmul") GFLOP/s | |")
  steps=${BENCH_STEPS:-10}
  [ "$backend" = wgpu ] && steps=${BENCH_WGPU_STEPS:-2}
  for arch in $archs; do
    echo "bench $arch on $backend (uptime:$(uptime | sed 's/.*load average://'))" >&2
    json="$out/$arch-$backend.json"
    "$bin" bench --arch "$arch" --backend "$backend" --steps "$steps" "$@" > "$json"
    rows+=("$(jq -r --arg b "$(label "$backend")" '"| \($b) | \(.arch) | \(.parameters / 1e6 * 10 | round / 10)M | \(.train.tokens_per_second | round) | \(.forward.tokens_per_second | round) | \(.greedy.tokens_per_second | round) | \(.beam.tokens_per_second | round) | \(.peak_rss_mib | round) | \(.flops.train_gflops_per_second | round) GFLOP/s of \(.flops.matmul_gflops_per_second | round) | \(.flops.matmul_share * 100 | round)% |"' "$json")")
  done
done

shape=$(jq -r '"\(.preset) presets, vocabulary \(.shape.vocab) on both sides, batch \(.shape.batch), source \(.shape.src_len) and target \(.shape.tgt_len) tokens (no padding), \(.shape.steps) timed updates after \(.shape.warmup) untimed, decoding \(.shape.decode_len) steps, beam \(.shape.beam)"' "$(ls "$out"/*-*.json | grep -v matmul | head -1)")
table=$(
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores" \
       "($(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1 | sed 's/.\+/& guest/')); $(rustc --version); $(date -u +%Y-%m-%d)." \
       "Load average (1, 5, 15 min) at the start: $load_start; at the end: $(uptime | sed 's/.*load average: //')."
  echo
  echo "Shapes: $shape."
  echo
  echo "| backend | model | parameters | train tok/s | forward tok/s | greedy tok/s | beam-5 tok/s | peak RSS MiB | training FLOP rate | share of matmul |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)

begin='<!-- bench:begin (scripts/bench.sh writes between these markers) -->'
end='<!-- bench:end -->'
[ -f "$doc" ] || printf '# Benchmarks\n\n%s\n%s\n' "$begin" "$end" > "$doc"
if ! grep -qF "$begin" "$doc"; then printf '\n%s\n%s\n' "$begin" "$end" >> "$doc"; fi
BENCH_TABLE="$table" awk -v b="$begin" -v e="$end" '
  $0 == b { print; print ENVIRON["BENCH_TABLE"]; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
echo "wrote $doc" >&2
echo "$table"
