#!/usr/bin/env python3
"""Two threads against one: the batch beside the engine with nothing around it.

Each round runs, in a rotating order, the batch CLI and `ceiling` (benches/src/bin/ceiling.rs:
plain threads, read, engine, write) on 1 and 2 threads, and `ceiling --durable` (each write
fsynced and renamed as the batch's local store does). A run's wall time and CPU time (user +
system, from wait4) are the whole process's. The machine is shared and noisy: ratios are
taken within a round, between runs seconds apart, and summarised by their median.

  cargo build --release -p thumbnail-cli -p thumbnail-bench
  python3 benches/scaling.py --rounds 15 --files '../shared/corpus/photos/*'
  python3 benches/scaling.py --rounds 9 --copies 5 --files '../shared/corpus/photos/*'

--copies K runs over K copies of every file (in a temporary folder), for a longer batch.
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd):
    """Wall and CPU seconds of one run; exits on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd[:4])} ... failed: {err.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", action="append", required=True, help="glob of inputs (repeatable)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--thumbnail", default="target/release/thumbnail")
    ap.add_argument("--ceiling", default="target/release/ceiling")
    args = ap.parse_args()

    files = sorted(f for g in args.files for f in glob.glob(g) if os.path.isfile(f))
    if not files:
        sys.exit("no input files")
    for binary in (args.thumbnail, args.ceiling):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing: cargo build --release -p thumbnail-cli -p thumbnail-bench")
    with tempfile.TemporaryDirectory() as scratch:
        if args.copies > 1:
            copies = []
            for k in range(args.copies):
                for f in files:
                    dest = Path(scratch, "in", f"{k}-{Path(f).name}")
                    dest.parent.mkdir(exist_ok=True)
                    shutil.copyfile(f, dest)
                    copies.append(str(dest))
            files = copies
        out = Path(scratch, "out")
        variants = {}
        for t in (1, 2):
            variants[f"batch {t}"] = [args.thumbnail, "--threads", str(t), "--out-dir", str(out), *files]
            variants[f"ceiling {t}"] = [args.ceiling, str(t), str(out), *files]
            variants[f"durable {t}"] = [args.ceiling, str(t), str(out), "--durable", *files]
        names = list(variants)
        runs = {n: [] for n in names}
        for r in range(args.rounds):
            for n in names[r % len(names):] + names[:r % len(names)]:
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                runs[n].append(run(variants[n]))

    print(f"{len(files)} files, {args.rounds} rounds; milliseconds, medians (min)")
    print(f"{'':12} {'wall 1':>14} {'wall 2':>14} {'CPU 1':>7} {'CPU 2':>7} {'2 vs 1':>7} {'min/min':>7}")
    for family in ("ceiling", "durable", "batch"):
        one, two = runs[f"{family} 1"], runs[f"{family} 2"]
        ratio = statistics.median(a[0] / b[0] for a, b in zip(one, two))
        best = min(w for w, _ in one) / min(w for w, _ in two)
        cells = []
        for rs in (one, two):
            cells.append(f"{statistics.median(w for w, _ in rs) * 1e3:6.1f} ({min(w for w, _ in rs) * 1e3:5.1f})")
        cpu = [statistics.median(c for _, c in rs) * 1e3 for rs in (one, two)]
        print(f"{family:12} {cells[0]:>14} {cells[1]:>14} {cpu[0]:7.1f} {cpu[1]:7.1f} {ratio:6.2f}x {best:6.2f}x")
    for t in (1, 2):
        vs = statistics.median(b[0] / c[0] for b, c in zip(runs[f"batch {t}"], runs[f"ceiling {t}"]))
        vd = statistics.median(b[0] / c[0] for b, c in zip(runs[f"batch {t}"], runs[f"durable {t}"]))
        print(f"batch {t} thread(s): {vs:.3f} of ceiling's wall, {vd:.3f} of durable's (median of rounds)")


if __name__ == "__main__":
    main()
