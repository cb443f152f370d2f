#!/usr/bin/env bash
# The benchmark guard: instruction counts of the hot paths (callgrind counts every instruction
# exactly, so the machine's noise does not move them) against benches/baseline.tsv. Fails
# when a case needs more than THUMBNAIL_GUARD_TOLERANCE percent (default 10) over its baseline.
#
#   benches/guard.sh            compare (what .ci/run does)
#   benches/guard.sh --update   write the current counts as the new baseline (commit it with
#                               the change that earned it, and say why in the commit)
#
# The cases run in the profile the test suite builds (`dev`: dependencies at opt-level 3, our
# core at 2 with overflow checks), so CI reuses most of that build (the step takes about three
# minutes on a clean clone, ten seconds after); counts of a change there move with its counts
# in the release build. Other toolchains or CPUs give other counts: the
# baseline is for the machine kind CI runs on (x86-64 with AVX2, the pinned toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."
tolerance=${THUMBNAIL_GUARD_TOLERANCE:-10}
[[ $tolerance =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "guard.sh: THUMBNAIL_GUARD_TOLERANCE must be a percentage, not '$tolerance'" >&2; exit 2; }
baseline=benches/baseline.tsv
command -v valgrind >/dev/null || { echo "guard.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

# Incremental compilation splits code differently (counts move by a few percent): build as CI
# does, without it.
export CARGO_INCREMENTAL=0
cargo build --locked -q -p thumbnail-bench --bin hotpaths
bin=target/debug/hotpaths
dir=target/hotpaths
"$bin" prepare "$dir"

current=$(mktemp)
trap 'rm -f "$current"' EXIT
while IFS=$'\t' read -r case _; do
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" run "$case" "$dir" 2>&1) || {
        echo "$out" >&2
        echo "guard.sh: $case failed" >&2
        exit 1
    }
    count=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$count" ] || { echo "$out" >&2; echo "guard.sh: callgrind gave no count for $case" >&2; exit 1; }
    printf '%s\t%s\n' "$case" "$count" >>"$current"
done < <("$bin" list)

if [ "${1:-}" = "--update" ]; then
    { echo -e "case\tinstructions"; cat "$current"; } >"$baseline"
    echo "guard.sh: wrote $baseline"
    cat "$baseline"
    exit 0
fi

[ -f "$baseline" ] || { echo "guard.sh: no $baseline (write it with benches/guard.sh --update)" >&2; exit 1; }
python3 - "$baseline" "$current" "$tolerance" <<'EOF'
import sys
base_path, cur_path, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
base = dict(l.rstrip("\n").split("\t") for l in open(base_path).readlines()[1:] if l.strip())
cur = [l.rstrip("\n").split("\t") for l in open(cur_path) if l.strip()]
failed = []
print(f"{'case':<22} {'baseline':>14} {'now':>14} {'change':>8}")
for case, n in cur:
    now = int(n)
    if case not in base:
        print(f"{case:<22} {'(none)':>14} {now:>14,}")
        failed.append(f"{case} has no baseline (run benches/guard.sh --update)")
        continue
    was = int(base[case])
    change = 100.0 * (now - was) / was
    mark = ""
    if change > tol:
        mark = "  REGRESSION"
        failed.append(f"{case}: {change:+.1f}% instructions (limit +{tol:g}%)")
    elif change < -tol:
        mark = "  faster: update the baseline"
    print(f"{case:<22} {was:>14,} {now:>14,} {change:>+7.1f}%{mark}")
for f in failed:
    print(f"guard.sh: {f}", file=sys.stderr)
sys.exit(1 if failed else 0)
EOF
