#!/usr/bin/python3
"""Recorded swift-ring-builder results for the ring-quality acceptance tests.

test_ring_quality.py runs swift-ring-builder live for most layouts; for the
ones too slow to run on every test pass (SWIFT_CACHED there: 20-3-100) it reads
Swift's numbers - balance, dispersion, moved/changed part-replicas and the
theoretical minimum per layout and change - from swift_reference.json next to
this script. Each entry carries a signature of what determines it (layout,
changes, seed, method: ringlab.layout_signature); the test ignores a stale
entry and runs Swift live instead.

    /usr/bin/python3 tests/interop/swift_reference.py              # show file
    /usr/bin/python3 tests/interop/swift_reference.py --regenerate # 20-3-100
    /usr/bin/python3 tests/interop/swift_reference.py --regenerate --layouts all
    /usr/bin/python3 tests/interop/swift_reference.py --check --layouts 18-3-48

Regenerate after changing a layout or change in ringlab.py (about 1-3 minutes
per big layout). Swift's results are deterministic for a given seed, so the
file only changes when the experiment does.
"""

import argparse
import collections
import datetime
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ringlab  # noqa: E402

REFERENCE = os.path.join(HERE, "swift_reference.json")
DEFAULT_LAYOUTS = ["20-3-100"]
KEYS = ("balance", "dispersion", "changed", "moved", "min_moves", "min_arrive",
        "min_leave")


def load():
    try:
        with open(REFERENCE) as f:
            return json.load(f, object_pairs_hook=collections.OrderedDict)
    except FileNotFoundError:
        return collections.OrderedDict(layouts=collections.OrderedDict())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regenerate", action="store_true",
                    help="run swift-ring-builder and rewrite the entries")
    ap.add_argument("--check", action="store_true",
                    help="run swift-ring-builder and compare with the recorded "
                         "entries (exit 1 on any difference)")
    ap.add_argument("--layouts", default=",".join(DEFAULT_LAYOUTS),
                    help="comma-separated layout names, or 'all' (default %(default)s)")
    args = ap.parse_args()
    names = list(ringlab.LAYOUTS) if args.layouts == "all" else args.layouts.split(",")
    for n in names:
        if n not in ringlab.LAYOUTS:
            ap.error("unknown layout %r (known: %s)" % (n, ", ".join(ringlab.LAYOUTS)))

    ref = load()
    if args.check:
        bad = 0
        for n in names:
            entry = ref["layouts"].get(n)
            if not entry:
                print("%s: no recorded entry" % n)
                bad += 1
                continue
            live = ringlab.summary(ringlab.run_layout("swift", ringlab.LAYOUTS[n], jobs=2))
            before = bad
            for phase, m in live.items():
                rec = entry["result"][phase]
                for k in KEYS:
                    if k in m and m[k] != rec.get(k):
                        print("%s %s %s: live %r recorded %r" % (n, phase, k, m[k], rec.get(k)))
                        bad += 1
            print("%s: %s" % (n, "differs" if bad > before else "same as recorded"))
        sys.exit(1 if bad else 0)
    if args.regenerate:
        ref["swift_version"] = ringlab.swift_version()
        ref["tool"] = ringlab.SWIFT_RING_BUILDER
        ref["note"] = ("written by tests/interop/swift_reference.py --regenerate; "
                       "metrics as defined in tests/interop/ringlab.py")
        for n in names:
            layout = ringlab.LAYOUTS[n]
            t0 = time.monotonic()
            res = ringlab.run_layout("swift", layout, jobs=1)
            wall = time.monotonic() - t0
            ref["layouts"][n] = collections.OrderedDict([
                ("signature", ringlab.layout_signature(layout)),
                ("description", layout.description),
                ("swift_version", ringlab.swift_version()),
                ("generated", datetime.datetime.now(datetime.timezone.utc)
                 .strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("host", "%s, %d cpus, load %.2f" % (
                    platform.node(), os.cpu_count(), os.getloadavg()[0])),
                ("wall_s", round(wall, 1)),
                ("result", ringlab.summary(res)),
            ])
            print("%s: %.1f s" % (n, wall), file=sys.stderr)
        ref["layouts"] = collections.OrderedDict(
            (k, ref["layouts"][k]) for k in ringlab.LAYOUTS if k in ref["layouts"])
        with open(REFERENCE + ".tmp", "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")
        os.replace(REFERENCE + ".tmp", REFERENCE)

    print("swift %s  (%s)" % (ref.get("swift_version", "?"), REFERENCE))
    for n, e in ref["layouts"].items():
        current = e["signature"] == ringlab.layout_signature(ringlab.LAYOUTS[n]) \
            if n in ringlab.LAYOUTS else False
        print("%-10s %s  generated %s  %s" % (n, "current" if current else "STALE",
                                              e["generated"], e["host"]))
        for phase, m in e["result"].items():
            line = "  %-8s balance %8.4f  dispersion %7.4f" % (
                phase, m["balance"], m["dispersion"])
            if "moved" in m:
                line += "  moved %7d  changed %7d  minimum %7d (%+.1f %%)" % (
                    m["moved"], m["changed"], m["min_moves"],
                    100.0 * (m["moved"] - m["min_moves"]) / max(1, m["min_moves"]))
            line += "  rebalance %.2f s" % m["times"]["rebalance"]
            print(line)


if __name__ == "__main__":
    main()
