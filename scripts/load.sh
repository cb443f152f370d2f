#!/usr/bin/env bash
# Load test of `thumbnail serve` with real photos: wrk (installed if missing) for DURATION at
# CONCURRENCY, uploading the corpus photos in turn with PUT /images/{key} (store + thumbnail
# in one request), then the stateless POST /thumbnail, then GET /thumbnails of stored photos:
# a stored size (a store read) and sizes nobody asked for before (each a first render from the
# original). Reports requests/s, p50/p99 latency, the status mix (from the server's own
# /metrics) and the server's peak RSS.
#
#   scripts/load.sh [DURATION=30s] [CONCURRENCY=32] [extra `thumbnail serve` flags...]
#   LOAD_PHASES="stored first" scripts/load.sh 20s 8     # only the GET phases
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30s}
conc=${2:-32}
shift $(( $# > 2 ? 2 : $# )) || true
corpus=${THUMBNAIL_CORPUS:-../shared/corpus}

if ! command -v wrk >/dev/null 2>&1; then
    echo "load.sh: installing wrk" >&2
    (apt-get install -y wrk || sudo apt-get install -y wrk) >/dev/null
fi
cargo build --release --locked -p thumbnail-cli >&2

work=$(mktemp -d -t thumbnail-load.XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn target/release/thumbnail serve --listen "127.0.0.1:$port" \
    --store "$work/originals" --thumbs "$work/thumbnails" --max-derivatives 1000000 "$@" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.1
done

# Every photo of the corpus (1 to 16 megapixels), sent in turn.
cat >"$work/photos.lua" <<LUA
local files = {}
for name in io.popen('ls "$corpus/photos"/*.jpg'):lines() do
    local f = io.open(name, "rb"); files[#files + 1] = f:read("*a"); f:close()
end
local n, method, path = 0, "PUT", "/images/"
function init(args) method = args[1]; path = args[2]; math.randomseed(os.time() + n) end
function request()
    n = n + 1
    local body = files[(n % #files) + 1]
    local p = path
    if method == "PUT" then p = path .. "load/" .. math.random(1, 1000000) .. ".jpg" end
    if method == "GET" then
        -- "stored": one size of each stored photo, made by the warm-up; "first": a width and
        -- quality nobody asked for before, made from the original on this request.
        local src = (n % #files)
        if path == "stored" then
            return wrk.format("GET", "/thumbnails/src/" .. src .. ".jpg?width=320")
        end
        return wrk.format("GET", "/thumbnails/src/" .. math.random(0, #files - 1) .. ".jpg?width="
            .. math.random(64, 1000) .. "&quality=" .. math.random(1, 100))
    end
    return wrk.format(method, p, { ["Content-Type"] = "image/jpeg" }, body)
end
LUA

run() {
    echo "== $1 $2, $duration at concurrency $conc"
    wrk -t 2 -c "$conc" -d "$duration" --timeout 60s --latency -s "$work/photos.lua" \
        "http://127.0.0.1:$port" -- "$1" "$2" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
}
phases=${LOAD_PHASES:-put post stored first}
for phase in $phases; do
    case $phase in
        put) run PUT /images/ ;;
        post) run POST /thumbnail ;;
        stored|first)
            if [ ! -e "$work/stored" ]; then
                # Each photo stored once, under the names the GET phases ask for, and the
                # size the "stored" phase reads made once.
                i=0
                for f in $(ls "$corpus"/photos/*.jpg); do
                    curl -fsS -o /dev/null -T "$f" "http://127.0.0.1:$port/images/src/$i.jpg"
                    curl -fsS -o /dev/null "http://127.0.0.1:$port/thumbnails/src/$i.jpg?width=320"
                    i=$((i + 1))
                done
                touch "$work/stored"
            fi
            run GET "$phase" ;;
        *) echo "load.sh: unknown phase $phase (put, post, stored, first)" >&2; exit 2 ;;
    esac
done

echo "== status mix (server metrics)"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^thumbnail_requests_total|^thumbnail_rejections_total'
echo "== peak RSS of the server"
grep -E 'VmHWM|VmRSS' "/proc/$pid/status"
