#!/usr/bin/env bash
# Honyaku against PyTorch, side by side on this machine (`scripts/bench.sh --side-by-side` runs
# this): for every architecture, preset and sequence length, alternately `honyaku bench` (flex)
# and the PyTorch reference scripts/torch_bench.py (same models, shapes and counting), ROUNDS
# times, then one table row: each side's median and min–max training and greedy tokens/s, the
# ratios honyaku / PyTorch of each alternating pair (median and min–max), and each side's
# training CPU seconds per wall second. Writes the JSON of every run to $BENCH_OUT (default
# runs/bench-side) and the table, with the machine, the load and the versions, between the
# side-by-side markers of docs/BENCHMARKS.md.
#
#   BENCH_ARCHS="lstm attention transformer"  BENCH_PRESETS="small tiny"  BENCH_LENS="16 64 128"
#   BENCH_ROUNDS=3  BENCH_TOKENS=8192  BENCH_MIN_STEPS=2  BENCH_WARMUP=1  BENCH_BACKEND=flex
#   BENCH_OUT=runs/bench-side  BENCH_DOC=docs/BENCHMARKS.md  TORCH_PYTHON=$HOME/torchref/bin/python
#   HONYAKU_BIN=path/to/honyaku (that binary, without building)  scripts/bench_side.sh
#
# Each run trains ceil(BENCH_TOKENS / (64 · length)) timed updates, at least BENCH_MIN_STEPS,
# after BENCH_WARMUP untimed ones (source length = target length = LEN, batch 64, vocabulary
# 8000, greedy decoding of 32 steps). Without a Python that imports torch it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  echo "scripts/bench_side.sh takes no arguments (got: $*); set the BENCH_* variables instead" >&2
  exit 2
fi

python=${TORCH_PYTHON:-$HOME/torchref/bin/python}
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
  echo "side-by-side benchmark skipped: no PyTorch ('$python' cannot import torch)." >&2
  echo "Set TORCH_PYTHON to a Python with torch, or: python3 -m venv ~/torchref &&" \
       "~/torchref/bin/pip install torch" >&2
  exit 0
fi
command -v jq >/dev/null || { echo "scripts/bench_side.sh needs jq" >&2; exit 1; }
if [ -n "${HONYAKU_BIN:-}" ]; then
  bin=$HONYAKU_BIN
else
  cargo build --release --workspace --all-targets --locked
  bin="${CARGO_TARGET_DIR:-target}/release/honyaku"
fi

archs=${BENCH_ARCHS:-lstm attention transformer}
presets=${BENCH_PRESETS:-small tiny}
lens=${BENCH_LENS:-16 64 128}
rounds=${BENCH_ROUNDS:-3}
tokens=${BENCH_TOKENS:-8192}
min_steps=${BENCH_MIN_STEPS:-2}
warmup=${BENCH_WARMUP:-1}
backend=${BENCH_BACKEND:-flex}
out=${BENCH_OUT:-runs/bench-side}
doc=${BENCH_DOC:-docs/BENCHMARKS.md}
batch=64
mkdir -p "$out"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

# run_pair ARCH PRESET LEN ROUND: one honyaku and one PyTorch run, the order swapped every
# round so that a drifting load favours neither side.
run_pair() {
  local arch=$1 preset=$2 len=$3 round=$4
  local steps=$(( (tokens + batch * len - 1) / (batch * len) ))
  [ "$steps" -ge "$min_steps" ] || steps=$min_steps
  local common=(--arch "$arch" --preset "$preset" --batch "$batch" --src-len "$len"
                --tgt-len "$len" --steps "$steps" --warmup "$warmup")
  local stem="$out/$arch-$preset-$len-r$round"
  local sides=(honyaku torch)
  [ $((round % 2)) -eq 0 ] && sides=(torch honyaku)
  for side in "${sides[@]}"; do
    echo "$side $arch $preset len $len round $round, $steps steps (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    if [ "$side" = honyaku ]; then
      "$bin" bench --backend "$backend" "${common[@]}" > "$stem-honyaku.json"
    else
      "$python" scripts/torch_bench.py "${common[@]}" > "$stem-torch.json"
    fi
  done
}

# row ARCH PRESET LEN: the table row from the rounds' JSON files.
row() {
  local stem="$out/$1-$2-$3"
  jq -rs --arg arch "$1" --arg preset "$2" --arg len "$3" '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def tok: round | tostring;
    def r2: (. * 100 | round) as $x | "\($x / 100 | floor).\($x % 100 | tostring
            | if length == 1 then "0" + . else . end)";
    def spread(f): "\(median | f) (\(min | f)–\(max | f))";
    (length / 2) as $n | [.[range(0; $n) * 2]] as $h | [.[range(0; $n) * 2 + 1]] as $t
    | ($h | map(.train.tokens_per_second)) as $ht | ($t | map(.train.tokens_per_second)) as $tt
    | ($h | map(.greedy.tokens_per_second)) as $hg | ($t | map(.greedy.tokens_per_second)) as $tg
    | ([range(0; $n)] | map($ht[.] / $tt[.])) as $rt
    | ([range(0; $n)] | map($hg[.] / $tg[.])) as $rg
    | ($h | map(.train.cpu_seconds / .train.seconds) | median) as $hc
    | ($t | map(.train.cpu_seconds / .train.seconds) | median) as $tc
    | ($h[0].parameters) as $hp | ($t[0].parameters) as $tp
    | (if $hp == $tp then "\($hp / 1e6 * 100 | round / 100)M" else "**\($hp) vs \($tp)**" end) as $params
    | "| \($arch) | \($preset) | \($len) | \($params) | \($ht | spread(tok)) | \($tt | spread(tok)) | **\($rt | spread(r2))** | \($hg | spread(tok)) | \($tg | spread(tok)) | **\($rg | spread(r2))** | \($hc | r2) | \($tc | r2) |"
  ' $(for i in $(seq 1 "$rounds"); do echo "$stem-r$i-honyaku.json" "$stem-r$i-torch.json"; done)
}

rows=()
for arch in $archs; do
  for preset in $presets; do
    for len in $lens; do
      for round in $(seq 1 "$rounds"); do run_pair "$arch" "$preset" "$len" "$round"; done
      rows+=("$(row "$arch" "$preset" "$len")")
      hp=$(jq .parameters "$out/$arch-$preset-$len-r1-honyaku.json")
      tp=$(jq .parameters "$out/$arch-$preset-$len-r1-torch.json")
      [ "$hp" = "$tp" ] || echo "warning: $arch $preset: honyaku has $hp parameters, PyTorch $tp" >&2
    done
  done
done
minutes=$(( ($(date +%s) - started + 30) / 60 ))

first_torch=$(ls "$out"/*-torch.json | head -1)
first_honyaku=$(ls "$out"/*-honyaku.json | head -1)
shards=$(jq '.shape.cpu_shards // 1' "$first_honyaku")
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' \
  | grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_bf16|amx_int8' \
  | paste -sd' ' -)
table=$(
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores" \
       "($(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1 | sed 's/.\+/& guest/'))," \
       "CPU flags: ${flags:-none of avx2/avx512/amx}; $(rustc --version);" \
       "PyTorch $(jq -r '.torch.version' "$first_torch") ($(jq -r '.torch.threads' "$first_torch") threads," \
       "$(jq -r '.torch.cpu_capability' "$first_torch") kernels); $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)." \
       "$rounds alternating rounds per row (the order swapped every round); $minutes minutes in all."
  echo
  echo "Shapes: batch $batch, vocabulary 8000 on both sides, source = target = the length column" \
       "(no padding), $warmup untimed then ceil($tokens / (batch × length)) (at least $min_steps)" \
       "timed updates, greedy decoding of 32 steps by the untrained model; honyaku on $backend," \
       "each training batch in $shards row shards (its default \`--cpu-shards\` on this machine)." \
       "Ratios are honyaku / PyTorch of each alternating pair: median (min–max). CPU-s / wall-s:" \
       "training CPU seconds of the process (all threads) per wall second, median."
  echo
  echo "| model | preset | length | parameters | honyaku train tok/s | PyTorch train tok/s | train ratio | honyaku greedy tok/s | PyTorch greedy tok/s | greedy ratio | honyaku CPU-s / wall-s | PyTorch CPU-s / wall-s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)

begin='<!-- side-by-side:begin (scripts/bench.sh --side-by-side writes between these markers) -->'
end='<!-- side-by-side:end -->'
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
if ! grep -qF "$begin" "$doc"; then printf '\n%s\n%s\n' "$begin" "$end" >> "$doc"; fi
BENCH_TABLE="$table" awk -v b="$begin" -v e="$end" '
  $0 == b { print; print ENVIRON["BENCH_TABLE"]; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
echo "wrote $doc" >&2
echo "$table"
