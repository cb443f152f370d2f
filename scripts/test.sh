#!/usr/bin/env bash
# Runs the whole test suite on a bare machine: checks the shared corpus is there, installs and
# starts a real S3-compatible server (moto, server mode) on 127.0.0.1, then `cargo test` for
# every crate. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${THUMBNAIL_CORPUS:-../shared/corpus}
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "test.sh: the image corpus is missing at $corpus (check out ../shared)" >&2
    exit 1
fi

# moto's server mode: a real HTTP S3 (SigV4, path-style) and SQS, in memory.
if ! command -v moto_server >/dev/null 2>&1; then
    echo "test.sh: installing moto (pip install moto flask flask-cors)" >&2
    python3 -m pip install --quiet "moto[server]" flask flask-cors
fi
# HEIC, AVIF and JPEG XL test files and their reference decodes (testkit/heif and testkit/jxl
# make-fixtures.py): libheif's, libavif's and libjxl's command-line tools, Pillow and numpy;
# libjpeg-turbo's djpeg and jpegtran, the reference for damaged JPEGs (thumbnail-core's
# restart test).
if ! command -v heif-enc >/dev/null 2>&1 || ! command -v avifenc >/dev/null 2>&1 || ! command -v cjxl >/dev/null 2>&1 || ! command -v djpeg >/dev/null 2>&1; then
    echo "test.sh: installing libheif-examples, libavif-bin, libjxl-tools and libjpeg-turbo-progs" >&2
    pkgs="libheif-examples libavif-bin libjxl-tools libjpeg-turbo-progs"
    { apt-get install -y $pkgs || sudo apt-get install -y $pkgs; } >/dev/null
fi
python3 -c 'import PIL, numpy' 2>/dev/null || python3 -m pip install --quiet pillow numpy
python3 testkit/heif/make-fixtures.py
python3 testkit/jxl/make-fixtures.py
# The Lambda runtime API emulator for the function's end-to-end test.
if ! cargo lambda --version >/dev/null 2>&1; then
    echo "test.sh: installing cargo-lambda (pip install cargo-lambda)" >&2
    python3 -m pip install --quiet cargo-lambda
fi
if [ -n "${THUMBNAIL_TEST_S3_ENDPOINT:-}" ]; then
    # An S3-compatible server is already running (CI's service container): use it.
    echo "test.sh: using the S3 server at $THUMBNAIL_TEST_S3_ENDPOINT" >&2
else
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    port=$(free_port)
    log=$(mktemp -t moto.XXXXXX.log)
    moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    moto_pid=$!
    trap 'kill "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then break; fi
        if ! kill -0 "$moto_pid" 2>/dev/null; then cat "$log" >&2; echo "test.sh: moto_server died" >&2; exit 1; fi
        sleep 0.1
    done
    export THUMBNAIL_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
fi
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
# moto serves Secrets Manager on the same port (the credentials-secret tests).
export AWS_ENDPOINT_URL_SECRETS_MANAGER="$THUMBNAIL_TEST_S3_ENDPOINT"
# Never reach for the real instance metadata service from tests.
export AWS_EC2_METADATA_DISABLED=true

# --all-targets includes the criterion benches, which run each benchmark once in test mode;
# it leaves out doc tests, which get their own run.
# vendor/rav1d (thumbnail-rav1d) is a member only to be packaged with our crates: its tests are
# upstream's business.
cargo test --workspace --exclude thumbnail-rav1d --all-targets --locked "$@"
cargo test --workspace --exclude thumbnail-rav1d --doc --locked "$@"
