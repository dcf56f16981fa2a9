#!/usr/bin/env bash
# Any Tatoeba/Anki TSV export (source in column 1, target in column 2 unless told otherwise):
# shuffled with a fixed seed and split 90/5/5 into train/valid/test, then compared.
# Usage: scripts/compare-tsv.sh FILE.tsv [--src-col N] [--tgt-col M] [--out DIR] [flags]
#   (Tatoeba exports are downloaded by hand from tatoeba.org or manythings.org/anki; pass the
#    local file — the equivalent of --from for this recipe.)
source "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 FILE.tsv [--src-col N] [--tgt-col M] [--out DIR] [flags]" >&2; exit 1; }
tsv=$1; shift
sc=1 tc=2 out=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --src-col) sc=$2; shift 2 ;;
    --tgt-col) tc=$2; shift 2 ;;
    --from) tsv=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -f "$tsv" ] || { echo "error: $tsv not found" >&2; exit 1; }
out=${out:-runs/compare-$(basename "$tsv" .tsv)}
data="$out/data"
mkdir -p "$data"
awk -F'\t' -v s="$sc" -v t="$tc" 'NF >= s && NF >= t && $s != "" && $t != "" {print $s "\t" $t}' "$tsv" \
  | awk 'BEGIN{srand(1)} {print rand() "\t" $0}' | sort -k1,1 | cut -f2- > "$data/all.tsv"
n=$(wc -l < "$data/all.tsv"); nv=$(( n / 20 ))
head -n "$nv" "$data/all.tsv" > "$data/valid.tsv"
sed -n "$((nv + 1)),$((2 * nv))p" "$data/all.tsv" > "$data/test.tsv"
tail -n +"$((2 * nv + 1))" "$data/all.tsv" > "$data/train.tsv"
for split in train valid test; do
  cut -f1 "$data/$split.tsv" > "$data/$split.src"
  cut -f2 "$data/$split.tsv" > "$data/$split.tgt"
done
honyaku compare --archs lstm,attention,transformer \
  --train-src "$data/train.src" --train-tgt "$data/train.tgt" \
  --valid-src "$data/valid.src" --valid-tgt "$data/valid.tgt" \
  --test-src "$data/test.src" --test-tgt "$data/test.tgt" \
  --out "$out" "${args[@]}"
