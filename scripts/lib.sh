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
