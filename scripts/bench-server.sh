#!/usr/bin/env bash
# The service side by side with its peers: `thumbnail serve` (POST /thumbnail), thumbor (from
# PyPI: file loader, no storage, no result storage, one process per CPU) and a minimal sharp
# HTTP server (npm; POST body in, thumbnail out). Each makes 100x100 cover-fit JPEG q80
# thumbnails of the same photos (the shared corpus, in turn), on loopback only, under wrk at
# each concurrency for DURATION, one server at a time, each warmed up first. Reports
# requests/s, p50 and p99 latency, non-2xx answers and the server's peak RSS (all its
# processes). Absolute figures move with the machine: compare within one run.
#
#   scripts/bench-server.sh [DURATION=15s] [CONCURRENCIES="2 16"] [SERVERS="ours thumbor sharp"]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15s}
concurrencies=${2:-2 16}
servers=${3:-ours thumbor sharp}
corpus=$(cd "${THUMBNAIL_CORPUS:-../shared/corpus}" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/thumbnail-bench
[ -d "$corpus/photos" ] || { echo "bench-server.sh: no corpus at $corpus" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1; }
need wrk || (apt-get install -y wrk || sudo apt-get install -y wrk) >/dev/null
if [[ $servers == *thumbor* ]] && [ ! -x "$cache/thumbor/bin/thumbor" ]; then
    echo "bench-server.sh: installing thumbor in $cache/thumbor" >&2
    python3 -m venv "$cache/thumbor" && "$cache/thumbor/bin/pip" install --quiet thumbor
fi
if [[ $servers == *sharp* ]] && [ ! -d "$cache/node/node_modules/sharp" ]; then
    echo "bench-server.sh: installing sharp in $cache/node" >&2
    mkdir -p "$cache/node" && npm install --silent --prefix "$cache/node" sharp
fi
if [[ $servers == *ours* ]]; then
    cargo build --release --locked -p thumbnail-cli >&2
fi

work=$(mktemp -d -t thumbnail-bench-server.XXXXXX)
pids=()
# Each server runs in a process group of its own (thumbor forks one process per CPU).
stop() { kill -- "-$1" 2>/dev/null || true; }
cleanup() { for p in "${pids[@]}"; do stop "$p"; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpus=$(nproc)

# The photos, without spaces in their names (thumbor takes them as URL paths).
mkdir -p "$work/photos"
for f in "$corpus"/photos/*.jpg "$corpus"/photos/*.jpeg; do
    [ -e "$f" ] && ln -s "$f" "$work/photos/$(basename "$f" | tr ' ' _)"
done

cat >"$work/sharp-server.js" <<'JS'
// POST an image, get a 100x100 cover-fit JPEG q80 (EXIF orientation applied), like ours.
const http = require("http");
const sharp = require("sharp");
sharp.concurrency(1); // one libvips thread per image; the threadpool runs images in parallel
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  const fail = (e) => { res.writeHead(400); res.end(String(e)); };
  req.on("end", () => {
    try {
      sharp(Buffer.concat(chunks)).rotate().resize(100, 100, { fit: "cover" })
        .jpeg({ quality: 80 }).toBuffer()
        .then((out) => { res.writeHead(200, { "Content-Type": "image/jpeg" }); res.end(out); })
        .catch(fail);
    } catch (e) {
      fail(e);
    }
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
JS

cat >"$work/thumbor.conf" <<CONF
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = '$work/photos'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
QUALITY = 80
RESPECT_ORIENTATION = True
AUTO_WEBP = False
MAX_AGE = 0
CONF

# wrk cycles through the photos: a POST of the bytes, or thumbor's GET of the path.
cat >"$work/photos.lua" <<LUA
local names, bodies = {}, {}
for name in io.popen('ls "$work/photos"'):lines() do
    local f = io.open("$work/photos/" .. name, "rb")
    names[#names + 1] = name; bodies[#bodies + 1] = f:read("*a"); f:close()
end
local n, mode, path = 0, "post", "/"
function init(args) mode = args[1]; path = args[2] end
function request()
    n = n + 1
    local i = (n % #names) + 1
    if mode == "get" then return wrk.format("GET", path .. names[i]) end
    return wrk.format("POST", path, { ["Content-Type"] = "image/jpeg" }, bodies[i])
end
LUA

start() { # name, port: starts the server, sets $server_pid
    local name=$1 port=$2
    case $name in
        ours)
            RUST_LOG=warn setsid target/release/thumbnail serve --listen "127.0.0.1:$port" \
                --store "$work/ours/originals" --thumbs "$work/ours/thumbnails" 2>"$work/ours.log" &
            ;;
        thumbor)
            setsid "$cache/thumbor/bin/thumbor" --port "$port" --ip 127.0.0.1 --conf "$work/thumbor.conf" \
                --processes "$cpus" -l error 2>"$work/thumbor.log" &
            ;;
        sharp)
            UV_THREADPOOL_SIZE=$cpus NODE_PATH="$cache/node/node_modules" PORT=$port \
                setsid node "$work/sharp-server.js" 2>"$work/sharp.log" &
            ;;
    esac
    server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 300); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    echo "bench-server.sh: $name did not start" >&2
    cat "$work/$name.log" >&2
    return 1
}

# Peak RSS of a server: the sum over the processes of its group, in MiB.
peak_mib() {
    local total=0 p
    for p in $(pgrep -g "$1"); do
        total=$((total + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo $((total / 1024))
}

printf '%-8s %5s %10s %10s %10s %8s %9s\n' server conc "req/s" "p50 ms" "p99 ms" non2xx "peak MiB"
for name in $servers; do
    port=$(free_port)
    start "$name" "$port"
    case $name in
        thumbor) args=(get /unsafe/100x100/) ;;
        *) args=(post /thumbnail) ;;
    esac
    # Warm-up: every photo once (thumbor and node load their code lazily).
    wrk -t 1 -c 1 -d 3s -s "$work/photos.lua" "http://127.0.0.1:$port" -- "${args[@]}" >/dev/null
    for c in $concurrencies; do
        out=$(wrk -t 2 -c "$c" -d "$duration" --timeout 30s --latency -s "$work/photos.lua" \
            "http://127.0.0.1:$port" -- "${args[@]}")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.1f", v}'; }
        p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
        p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
        bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
        printf '%-8s %5s %10s %10s %10s %8s %9s\n' "$name" "$c" "$rps" "$p50" "$p99" "${bad:-0}" "$(peak_mib "$server_pid")"
    done
    stop "$server_pid"
    wait "$server_pid" 2>/dev/null || true
done
