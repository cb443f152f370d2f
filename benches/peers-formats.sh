#!/usr/bin/env bash
# The side-by-side benchmark on every input format: the shared JPEG photos, and the same
# photos converted to PNG, WebP, TIFF and GIF (tools/make-format-folders.py), each folder
# through ../shared/bench/peers.py with the four peers and our CLI.
#   benches/peers-formats.sh [THUMBNAIL_BINARY] [REPEAT]   (default target/release/thumbnail, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/thumbnail}")
repeat=${2:-3}
home=${THUMBNAIL_BENCH_HOME:-$HOME/.cache/thumbnail-bench}
formats=${THUMBNAIL_FORMATS_DIR:-target/bench-formats}
../shared/bench/setup.sh >/dev/null
if [ ! -d "$formats/gif" ]; then
    "$home/venv/bin/python" tools/make-format-folders.py ../shared/corpus/photos "$formats" >/dev/null
fi
for corpus in ../shared/corpus/photos "$formats/png" "$formats/webp" "$formats/tiff" "$formats/gif"; do
    echo "== $corpus"
    python3 ../shared/bench/peers.py --corpus "$corpus" --threads 1 --repeat "$repeat" \
        --ours "$bin --threads {threads} --out-dir {out} {files}" | tail -n 7
done
