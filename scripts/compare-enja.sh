#!/usr/bin/env bash
# small_parallel_enja (Tanaka corpus, pre-tokenized): English→Japanese or Japanese→English.
# Usage: scripts/compare-enja.sh [--direction en-ja|ja-en] [--from DIR] [--out DIR] [flags]
#   --from DIR   a local copy holding train.{en,ja} and dev.{en,ja}
#                (e.g. ../shared/data/small_parallel_enja) instead of downloading.
# The corpus has no separate test split here: the dev set is split in half (valid / test).
source "$(dirname "$0")/lib.sh"
from="" direction="en-ja" out=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --direction) direction=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case $direction in en-ja) s=en t=ja ;; ja-en) s=ja t=en ;; *) echo "error: --direction en-ja or ja-en" >&2; exit 1 ;; esac
out=${out:-runs/compare-enja-$direction}
data="$out/data"
mkdir -p "$data"
base=https://raw.githubusercontent.com/odashi/small_parallel_enja/master
for f in train.en train.ja dev.en dev.ja; do
  if [ -n "$from" ]; then cp "$from/$f" "$data/$f"; else fetch "$base/$f" "$data/$f"; fi
done
for l in en ja; do
  head -n 250 "$data/dev.$l" > "$data/valid.$l"
  tail -n +251 "$data/dev.$l" > "$data/test.$l"
done
honyaku compare --archs lstm,attention,transformer \
  --train-src "$data/train.$s" --train-tgt "$data/train.$t" \
  --valid-src "$data/valid.$s" --valid-tgt "$data/valid.$t" \
  --test-src "$data/test.$s" --test-tgt "$data/test.$t" \
  --out "$out" "${args[@]}"
