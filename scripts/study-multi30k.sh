#!/usr/bin/env bash
# Multi30k German→English (Elliott et al. 2016): `honyaku study`, the "LSTM or attention?"
# rules of thumb measured (scores by length, cost against length, data regime, tuning
# sensitivity, size) with a report of verdicts.
# Usage: scripts/study-multi30k.sh [--from DIR] [--out DIR] [extra `honyaku study` flags]
#   --from DIR   use a local copy holding train/val/test_2016_flickr.{de,en}.gz
#                (e.g. ../shared/data/multi30k) instead of downloading.
# Example: scripts/study-multi30k.sh --from ../shared/data/multi30k --budget-hours 6 --preset mini
# The plan and its time estimate are printed first; add --dry-run to stop there.
source "$(dirname "$0")/lib.sh"
from="" out="runs/study-multi30k"
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
data="$out/data-multi30k"
multi30k_files "$from" "$data"
honyaku study --archs lstm,attention,transformer \
  --train-src "$data/train.de" --train-tgt "$data/train.en" \
  --valid-src "$data/val.de" --valid-tgt "$data/val.en" \
  --test-src "$data/test_2016_flickr.de" --test-tgt "$data/test_2016_flickr.en" \
  --data-sizes 1000,4000,16000 \
  --out "$out" "${args[@]}"
