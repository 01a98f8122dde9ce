#!/usr/bin/python3
"""Ring rebalance speed: kura-ring against swift-ring-builder 2.30, side by side.

For each layout (tests/interop/ringlab.py: part power, replicas, devices) both
builders build the ring through their CLI in a temporary directory - create,
add all devices in one command, rebalance --force --seed 1 - and then apply
three independent changes to copies of that builder (remove one disk, add one
disk, halve one disk's weight), each followed by a rebalance. The time of each
`rebalance` command is measured as an operator sees it: the wall time of the
whole process (start, loading the builder file, rebalancing, writing the
builder and the ring file). Kura and Swift run one after the other, never in
parallel, layout by layout, so both see the same machine load.

Prints one line per layout and phase,

  RESULT ring_rebalance layout=20-3-100 phase=initial kura_s=0.83 swift_s=95.1 speedup=114.6

then a summary table and the issue's target for every 20-3-100 rebalance
(>= 50x faster than swift-ring-builder and under 2 s).

    /usr/bin/python3 bench/ring_rebalance.py
    /usr/bin/python3 bench/ring_rebalance.py --layouts 16-3-12,20-3-100
    /usr/bin/python3 bench/ring_rebalance.py --skip-swift --repeat 3
"""

import argparse
import math
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "interop"))
import ringlab  # noqa: E402

PHASES = ("initial", "remove", "add", "weight")
TARGET_LAYOUT, TARGET_SECONDS, TARGET_SPEEDUP = "20-3-100", 2.0, 50.0


def rebalance_times(kind, layout, seed):
    """{phase: seconds of the rebalance command} for one builder."""
    workdir = tempfile.mkdtemp(prefix="ring-bench-%s-" % kind)
    try:
        res = ringlab.run_layout(kind, layout, workdir=workdir, seed=seed,
                                 jobs=1, metrics=False)
        return {phase: res[phase]["times"]["rebalance"] for phase in PHASES}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def fmt(x, digits=2):
    return "NA" if x is None else ("%.*f" % (digits, x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layouts", default=",".join(ringlab.LAYOUTS),
                    help="comma-separated layouts (default: all: %(default)s)")
    ap.add_argument("--skip-swift", action="store_true",
                    help="time kura-ring only (swift_s=NA)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run kura-ring N times per layout and keep the fastest "
                         "time of each phase (swift-ring-builder runs once)")
    ap.add_argument("--seed", type=int, default=ringlab.DEFAULT_SEED)
    args = ap.parse_args()
    names = args.layouts.split(",")
    for n in names:
        if n not in ringlab.LAYOUTS:
            ap.error("unknown layout %r (known: %s)" % (n, ", ".join(ringlab.LAYOUTS)))
    kura = ringlab.find_kura_ring()
    if not kura:
        sys.exit("kura-ring is not built (build/tools/kura-ring, or set KURA_RING)")

    print("# kura-ring: %s" % kura)
    if not args.skip_swift:
        print("# swift-ring-builder: %s (swift %s)" % (ringlab.SWIFT_RING_BUILDER,
                                                    ringlab.swift_version()))
    print("# %d cpus, load average at start %.2f" % (os.cpu_count(), os.getloadavg()[0]))
    sys.stdout.flush()

    rows = []
    for n in names:
        layout = ringlab.LAYOUTS[n]
        k = None
        for _ in range(max(1, args.repeat)):
            t = rebalance_times("kura", layout, args.seed)
            k = t if k is None else {p: min(k[p], t[p]) for p in PHASES}
        s = None if args.skip_swift else rebalance_times("swift", layout, args.seed)
        for p in PHASES:
            ks, ss = k[p], (s[p] if s else None)
            sp = ss / ks if ss is not None and ks > 0 else None
            rows.append((n, p, ks, ss, sp))
            print("RESULT ring_rebalance layout=%s phase=%s kura_s=%s swift_s=%s "
                  "speedup=%s" % (n, p, fmt(ks, 3), fmt(ss), fmt(sp, 1)))
            sys.stdout.flush()

    print()
    print("%-10s %-8s %10s %10s %9s" % ("layout", "phase", "kura_s", "swift_s", "speedup"))
    for n, p, ks, ss, sp in rows:
        print("%-10s %-8s %10s %10s %9s" % (n, p, fmt(ks, 3), fmt(ss), fmt(sp, 1)))
    speedups = [r[4] for r in rows if r[4]]
    if speedups:
        gm = math.exp(sum(math.log(x) for x in speedups) / len(speedups))
        print("geometric mean speedup %.1fx over %d rebalances (min %.1fx, max %.1fx)"
              % (gm, len(speedups), min(speedups), max(speedups)))
        print("RESULT ring_rebalance_summary geomean_speedup=%.1f min_speedup=%.1f"
              % (gm, min(speedups)))
    for _, p, ks, ss, sp in (r for r in rows if r[0] == TARGET_LAYOUT):
        ok = ks < TARGET_SECONDS and (sp is None or sp >= TARGET_SPEEDUP)
        print("target %s %-7s: kura %.3f s (< %.0f s), speedup %s (>= %.0fx): %s"
              % (TARGET_LAYOUT, p, ks, TARGET_SECONDS, fmt(sp, 1), TARGET_SPEEDUP,
                 ("met" if ok else "NOT met") +
                 (" (speedup not measured)" if sp is None else "")))


if __name__ == "__main__":
    main()
