#!/usr/bin/env bash
# Multi30k German→English at equal compute: a PyTorch reference trainer and `honyaku train` with
# the same settings for the same wall time, one right after the other, then Honyaku with its own
# recipe; each translated greedily and scored on test 2016 (sacreBLEU's 13a BLEU and chrF).
# Run it on an otherwise idle machine: the runs are budgeted in minutes, not updates.
# Usage: scripts/vs-torch-multi30k.sh [--from DIR] [--out DIR] [--minutes N] [--archs A,B]
#                                     [--torch-train FILE] [--python PY] [--seed N]
#   --from DIR          a local copy holding train/val/test_2016_flickr.{de,en}.gz
#   --torch-train FILE  the reference trainer (torch_train.py ARCH DATA MINUTES OUT.json TEST);
#                       without it only Honyaku's runs are made
#   --python PY         a Python with torch, sacrebleu and tokenizers ($HOME/torchref/bin/python)
#   --seed N            seed both sides: Honyaku's --seed N, and the reference through
#                       scripts/torch_seed.py (its torch.manual_seed and random.seed calls get N);
#                       without it each side keeps its own default seed. Runs go to OUT/seed-N.
source "$(dirname "$0")/lib.sh"
from="" out="runs/vs-torch-multi30k" minutes=20 archs="transformer,attention" torch_train="" seed=""
python="$HOME/torchref/bin/python"
while [ $# -gt 0 ]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --archs) archs=$2; shift 2 ;;
    --torch-train) torch_train=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done
data="$out/data-multi30k"
multi30k_files "$from" "$data"
mkdir -p "$data/gz"
for f in train val test_2016_flickr; do
  for l in de en; do [ -s "$data/gz/$f.$l.gz" ] || gzip -c "$data/$f.$l" > "$data/gz/$f.$l.gz"; done
done
test="$data/test_2016_flickr"
seeded=() torch_cmd=("$python" "$torch_train")
if [ -n "$seed" ]; then
  [[ $seed =~ ^[0-9]+$ ]] || { echo "error: --seed takes a whole number, got '$seed'" >&2; exit 2; }
  out="$out/seed-$seed"; mkdir -p "$out"
  seeded=(--seed "$seed") torch_cmd=("$python" "$(dirname "$0")/torch_seed.py" "$seed" "$torch_train")
fi
# The reference's settings: joint BPE of 8,000, Adam β 0.9/0.98 ε 1e-9, linear warm-up over 400
# updates to 1e-3 then inverse square root, label smoothing 0.1, clipping at 1.0, batches of about
# 2,048 tokens counting padding, no validation.
same=(--max-tokens 2048 --lr 1e-3 --schedule inverse-sqrt --warmup 400 --label-smoothing 0.1
      --clip-norm 1.0 --adam-beta1 0.9 --adam-beta2 0.98 --adam-eps 1e-9)
log() { echo "[$(date +%T)] load $(cut -d' ' -f1-3 /proc/loadavg): $*" | tee -a "$out/times.log"; }
train_and_score() { # NAME FLAGS...
  local name=$1; shift
  log "honyaku $name"
  honyaku train --train-src "$data/train.de" --train-tgt "$data/train.en" --out "$out/$name" \
    --overwrite --preset small --vocab-size 8000 --epochs 1000 --max-minutes "$minutes" \
    "${seeded[@]}" "$@" \
    > "$out/$name.log" 2>&1
  honyaku evaluate --run "$out/$name" --src "$test.de" --ref "$test.en" --beam 1 --json \
    --output "$out/$name.hyp" > "$out/$name.eval.json"
  log "honyaku $name done: $(tr -d '\n ' < "$out/$name.eval.json" | head -c 200)"
}
for arch in ${archs//,/ }; do
  if [ -n "$torch_train" ]; then
    log "pytorch $arch"
    "${torch_cmd[@]}" "$arch" "$data/gz" "$minutes" "$out/torch-$arch.json" "$data/gz/test_2016_flickr" \
      > "$out/torch-$arch.log" 2>&1
    log "pytorch $arch done"
  fi
  model=()
  if [ "$arch" = attention ]; then
    # The reference's attention model has no dropout; Honyaku's small preset has 0.2.
    cat > "$out/attention-no-dropout.json" <<'JSON'
{"model": {"arch": "attention", "src_vocab": 8000, "tgt_vocab": 8000, "d_embed": 256,
  "d_encoder": 256, "n_encoder_layers": 1, "d_decoder": 512, "n_decoder_layers": 1,
  "attention": "bahdanau", "d_attention": 512, "dropout": 0.0, "cell": "lstm"}}
JSON
    model=(--config "$out/attention-no-dropout.json")
  fi
  train_and_score "$arch-same" --arch "$arch" "${model[@]}" "${same[@]}"
  # The Transformer's small recipe is the reference's settings: its run above is both.
  [ "$arch" = transformer ] || train_and_score "$arch-recipe" --arch "$arch"
done
log "all done: $out/*.eval.json and $out/torch-*.json"
