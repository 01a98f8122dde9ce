#!/usr/bin/python3
"""swift_placement - Swift 2.30's own answer to "where does this path live".

The oracle side of tests/interop/test_ring_interop.py. Reads one
``account[/container[/object]]`` per line on stdin and prints, per line, the
same JSON object as ``kura get-nodes --batch``::

    {"path": ..., "part": N, "primaries": [ids], "handoffs": [first N ids]}

computed by ``swift.common.ring.Ring`` (so ``RingData.load`` reads the file)
with the prefix and suffix of the swift.conf given by ``--conf``. Run it with
Debian's /usr/bin/python3, which has python3-swift.

Usage: swift_placement.py --conf swift.conf --ring x.ring.gz [--handoffs 6]
"""
import argparse
import itertools
import json
import sys

from swift.common import utils


def use_swift_conf(path):
    """Point Swift's hash_path at 'path' as validate_configuration would."""
    utils.SWIFT_CONF_FILE = path
    utils.HASH_PATH_PREFIX = b''
    utils.HASH_PATH_SUFFIX = b''
    utils.validate_hash_conf()


def place(ring, line, n_handoffs):
    account, _, rest = line.partition('/')
    container, _, obj = rest.partition('/')
    part = ring.get_part(account, container or None, obj or None)
    primaries = [d['id'] for d in ring.get_part_nodes(part)]
    handoffs = [d['id'] for d in
                itertools.islice(ring.get_more_nodes(part), n_handoffs)]
    return {"path": line, "part": part, "primaries": primaries,
            "handoffs": handoffs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--conf', required=True)
    ap.add_argument('--ring', required=True)
    ap.add_argument('--handoffs', type=int, default=6)
    args = ap.parse_args()

    use_swift_conf(args.conf)
    from swift.common.ring import Ring
    ring = Ring(args.ring)
    out = sys.stdout
    for line in sys.stdin.buffer:
        text = line.decode('utf-8').rstrip('\n')
        out.write(json.dumps(place(ring, text, args.handoffs),
                             separators=(",", ":")))
        out.write('\n')


if __name__ == '__main__':
    main()
