#!/usr/bin/env bash
# Runs `thumbnail serve` (release build, default settings, a temporary folder store) on a free
# loopback port and attacks it with scripts/hostile-clients.py while legitimate requests are
# timed. Bounded: at most 120 s of attack, loopback only; it stops the server itself.
#
#   scripts/hostile-clients.sh [SECONDS] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bin=${2:-target/release/thumbnail}
if [ "$bin" = target/release/thumbnail ]; then
    cargo build --release --locked -p thumbnail-cli >&2
fi
photo=${THUMBNAIL_CORPUS:-../shared/corpus}/photos/kodak-dc240-640x480.jpg
test -f "$photo" || { echo "hostile-clients.sh: no photo at $photo" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
log="$dir/serve.log"
# The attack opens ~600 sockets: leave the server its usual 1024 descriptors.
ulimit -n 1024
RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --store "$dir/o" --thumbs "$dir/t" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$log" 2>/dev/null && break
    sleep 0.1
done
python3 scripts/hostile-clients.py --port "$port" --pid "$pid" --photo "$photo" --seconds "$seconds"
# The rebinding PUTs (a foreign Host) must have stored nothing.
if ls "$dir/o" 2>/dev/null | grep -q '^rebind-'; then
    echo "hostile-clients.sh: a PUT under a foreign Host was stored" >&2
    exit 1
fi
