#!/usr/bin/env bash
# Multi30k German→English (Elliott et al. 2016): LSTM vs attention vs Transformer.
# Usage: scripts/compare-multi30k.sh [--from DIR] [--out DIR] [extra `honyaku compare` flags]
#   --from DIR   use a local copy holding train/val/test_2016_flickr.{de,en}.gz
#                (e.g. ../shared/data/multi30k) instead of downloading.
# Example: scripts/compare-multi30k.sh --from ../shared/data/multi30k --budget-minutes 30
source "$(dirname "$0")/lib.sh"
from="" out="runs/compare-multi30k"
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
data="$out/data"
multi30k_files "$from" "$data"
honyaku compare --archs lstm,attention,transformer \
  --train-src "$data/train.de" --train-tgt "$data/train.en" \
  --valid-src "$data/val.de" --valid-tgt "$data/val.en" \
  --test-src "$data/test_2016_flickr.de" --test-tgt "$data/test_2016_flickr.en" \
  --out "$out" "${args[@]}"
