#!/usr/bin/env bash
# The overhead of training in two MPI processes on one machine (docs/TRAINING.md): one process
# with --accum 2 against `mpirun -np 2` with --accum 1 each (the same two batches per update),
# taken alternately, with the load average before each run.
#   scripts/bench_mpi.sh PRESET STEPS ROUNDS [WORKDIR]
# Needs a build with `--features mpi` in target/release (or HONYAKU=path) and OpenMPI's mpirun.
set -euo pipefail
preset=${1:?preset}; steps=${2:?steps}; rounds=${3:?rounds}; work=${4:-/tmp/honyaku-bench-mpi}
H=${HONYAKU:-$(cd "$(dirname "$0")/.." && pwd)/target/release/honyaku}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work" && cd "$work"
[ -d corpus ] || "$H" synth --task copy --pairs 4000 --min-len 5 --max-len 20 --seed 1 --out corpus >/dev/null 2>&1
[ -d tok ] || "$H" train --arch lstm --preset tiny --train-src corpus/train.src \
  --train-tgt corpus/train.tgt --vocab-size 1000 --max-steps 1 --quiet --out tok --overwrite >/dev/null 2>&1
common=(--arch lstm --preset "$preset" --train-src corpus/train.src --train-tgt corpus/train.tgt
  --tokenizers-from tok --max-tokens 2048 --max-steps "$steps" --quiet --overwrite)
for r in $(seq 1 "$rounds"); do
  echo "round $r, 1 process:   $(uptime | sed 's/.*load/load/')"
  "$H" train "${common[@]}" --accum 2 --out one 2>&1 | grep "^done"
  echo "round $r, 2 processes: $(uptime | sed 's/.*load/load/')"
  mpirun --oversubscribe --bind-to none -np 2 "$H" train --distributed mpi "${common[@]}" \
    --accum 1 --out two 2>&1 | grep "^done\|^mpi: summing\|exchanges"
done
