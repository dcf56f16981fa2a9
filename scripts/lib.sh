# Shared helpers of the recipe scripts (sourced, not run).
set -euo pipefail

# fetch URL DEST: downloads unless DEST exists.
fetch() {
  local url=$1 dest=$2
  [ -s "$dest" ] && return 0
  mkdir -p "$(dirname "$dest")"
  echo "downloading $url"
  curl -fsSL --retry 3 -o "$dest.part" "$url" && mv "$dest.part" "$dest"
}

# honyaku: the release binary, built on first use.
honyaku() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local bin="${CARGO_TARGET_DIR:-$root/target}/release/honyaku"
  if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --workspace --all-targets --locked)
  fi
  "$bin" "$@"
}

# unzip_to SRC.gz DEST: decompresses unless DEST exists.
gunzip_to() {
  [ -s "$2" ] || gzip -dc "$1" > "$2"
}

# Multi30k German→English (train, val, test_2016_flickr) as plain text in DIR: from a local
# copy FROM holding the .gz files, or downloaded when FROM is empty.
# Usage: multi30k_files FROM DIR
multi30k_files() {
  local from=$1 data=$2 base=https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw
  mkdir -p "$data"
  for split in train val test_2016_flickr; do
    for lang in de en; do
      local src="$from/$split.$lang.gz"
      [ -n "$from" ] || { fetch "$base/$split.$lang.gz" "$data/$split.$lang.gz"; src="$data/$split.$lang.gz"; }
      [ -f "$src" ] || { echo "error: $src not found" >&2; exit 1; }
      gunzip_to "$src" "$data/$split.$lang"
    done
  done
}
