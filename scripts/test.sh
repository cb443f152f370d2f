#!/usr/bin/env bash
# Runs the whole test suite on a bare machine: checks the shared corpus is there, then
# `cargo test` for every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${THUMBNAIL_CORPUS:-../shared/corpus}
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "test.sh: the image corpus is missing at $corpus (check out ../shared)" >&2
    exit 1
fi

cargo test --workspace --locked "$@"
