#!/usr/bin/python3
"""Rebalance: the data a ring change moves, against the minimum it must.

    /usr/bin/python3 bench/rebalance.py --build build-rel      # ~2 min
    /usr/bin/python3 bench/rebalance.py --scenario down --objects 500
    /usr/bin/python3 bench/rebalance.py --scenario add --concurrency 4

Issue 5, acceptance 8: "partitions and bytes moved by a rebalance against
the minimum (target <= 1.05x)". On a `kura aio` of 4 nodes x 2 devices
(tests/probe/probe.py's Cluster, every background daemon running, as an
operator's cluster), --objects (2,000) objects of --size (64 KiB) are
PUT through the proxy (16 threads). Once every replica is in place the
bench notes where each object's copies are (every hash directory on every
device) and the end of each object server's access log, then makes the
operator's change with kura-ring on all three rings and rebalances:

  drain  (default) node 4's devices get weight 0 by its IP while it
         still runs, the way a node is retired (min_part_hours passed):
         its copies become handoffs that its replicator pushes to their
         new primaries, beside the remaining primaries, and removes. (A
         device removed from the ring outright is no longer its node
         replicator's, in Swift too: nothing would push its copies.)
  down   node 4 is stopped first and its copies go to handoffs (one
         replicator pass on every other node), then it is removed by its
         IP (doc/ops.md: a node down for long); the snapshot is taken
         then, so copies on handoffs count as held.
  add    node 4's devices get weight 0 before the load (it runs, holds
         nothing), then their weight back: a node added to the cluster.
         Each partition one of its devices gains is pushed to it by the
         old holder (a handoff now) and by both remaining primaries.

It waits until every object is on each of its new primaries (a direct HEAD
with the right ETag) and no copy is left on a device that is not one of its
primaries (node 4's own aside when it is down), then until every running
replicator finished one more pass (no SSYNC still in flight), and counts:

  minimum   per object, the new primaries that held no copy before, x its
            size (objects_min, bytes_min); parts_min: the (partition,
            device) pairs of those new copies (`changed`: the assignments
            of the new object ring not in the old one, empty partitions
            and new primaries that already hold copies included).
  moved     every replication PUT the object servers logged after the
            change (their access logs: nothing but the replicators writes
            objects then): objects_moved (PUTs; those answered 409 or
            cut short included, as their bytes went too), bytes_moved (the
            bodies received), parts_moved (distinct device and partition
            the PUTs went to), ssyncs (inventories received).

Prints `RESULT bench=rebalance figure=<f> value=<v> ...` (bench/
replication.py's format) per figure, the ratios moved / minimum
(`objects_ratio`, `bytes_ratio`, `parts_ratio`; target <= 1.05) and
`converge_s` (ring written to every copy in place), then a table.
--concurrency sets every node's replicator concurrency (the aio's is 1):
the race of two senders filling one new copy at once widens with it.
Figures: doc/benchmarks.md, "Rebalance: data moved".
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import struct
import sys
import tempfile
import threading
import time
import shutil
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = 4  # the node the change takes out
TIMEOUT = 900

# an object server access line: ... <client> <method> <path> <status>
# <bytes in> <bytes out> <seconds> <txn>
ACCESS = re.compile(r' (\S+) (PUT|SSYNC) (/[^ ]+) (\d{3}) (\d+) (\d+) '
                    r'[0-9.]+ \S+$')


def result(figure, value, **extra):
    """bench/replication.py's RESULT line, for bench=rebalance."""
    more = ''.join(' %s=%s' % kv for kv in extra.items())
    print('RESULT bench=rebalance figure=%s value=%s%s'
          % (figure, value, more), flush=True)


def ring_assignments(path):
    """{(part, device id)} of a ring file's replica2part2dev table."""
    with open(path, 'rb') as f:
        raw = gzip.decompress(f.read())
    (n,) = struct.unpack('!I', raw[6:10])
    hdr = json.loads(raw[10:10 + n])
    order = '<' if hdr['byteorder'] == 'little' else '>'
    parts = 1 << (32 - hdr['part_shift'])
    pos, out = 10 + n, set()
    replicas = hdr['replica_count']
    while replicas > 0:
        count = parts if replicas >= 1 else int(parts * replicas)
        ids = struct.unpack('%s%dH' % (order, count),
                            raw[pos:pos + 2 * count])
        out.update(enumerate(ids))
        pos += 2 * count
        replicas -= 1
    return out


def copies_on_disk(cluster):
    """{object hash: {(node, device)}} of every hash directory that holds
    a .data, on every device of every node."""
    out = {}
    root = os.path.join(cluster.dir, 'nodes')
    for node in os.listdir(root):
        for dev in os.listdir(os.path.join(root, node)):
            objs = os.path.join(root, node, dev, 'objects')
            if not os.path.isdir(objs):
                continue
            for part in os.listdir(objs):
                pdir = os.path.join(objs, part)
                if not part.isdigit() or not os.path.isdir(pdir):
                    continue
                for suffix in os.listdir(pdir):
                    sdir = os.path.join(pdir, suffix)
                    if len(suffix) != 3 or not os.path.isdir(sdir):
                        continue
                    for h in os.listdir(sdir):
                        files = os.listdir(os.path.join(sdir, h))
                        if any(f.endswith('.data') for f in files):
                            out.setdefault(h, set()).add((int(node), dev))
    return out


def log_offsets(cluster):
    """{object server log path: its size now}."""
    out = {}
    for i in range(1, cluster.nodes + 1):
        path = os.path.join(cluster.dir, 'log', 'object-server-%d.log' % i)
        out[path] = os.path.getsize(path) if os.path.exists(path) else 0
    return out


def replication_writes(offsets):
    """What the object servers received since 'offsets': (PUTs, bytes,
    PUTs answered 201, {(port, dev, part)} the PUTs went to, SSYNCs)."""
    puts = nbytes = created = ssyncs = 0
    parts = set()
    for path, off in offsets.items():
        node = os.path.basename(path)
        with open(path, 'rb') as f:
            f.seek(off)
            for line in f.read().decode(errors='replace').splitlines():
                m = ACCESS.search(line)
                if not m:
                    continue
                if m.group(2) == 'SSYNC':
                    ssyncs += 1
                    continue
                puts += 1
                nbytes += int(m.group(5))
                created += m.group(4) == '201'
                dev, part = m.group(3).split('/')[1:3]
                parts.add((node, dev, part))
    return puts, nbytes, created, parts, ssyncs


def load(cluster, n, size, threads):
    """n objects of 'size' bytes in container 'rebal', through the proxy;
    returns {name: etag}."""
    base = os.urandom(size)
    local = threading.local()
    cluster.swift().put_container('rebal')

    def put(i):
        conn = local.__dict__.setdefault('conn', None) or cluster.swift()
        local.conn = conn
        body = b'%08d' % i + base[8:]
        name = 'o%05d' % i
        conn.put_object('rebal', name, body)
        return name, hashlib.md5(body).hexdigest()

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(put, range(n)))


def change_rings(cluster, ring_cli, rebalance, *change, kinds=None):
    """One kura-ring change (its confirmation given) on each ring, then the
    rebalance an operator runs an hour later (min_part_hours passed)."""
    import probe
    for kind in kinds or probe.SERVER_KINDS:
        ring_cli(cluster, kind, *change, '--yes')
        ring_cli(cluster, kind, 'pretend_min_part_hours_passed')
        rebalance(cluster, kind)


def set_concurrency(cluster, n):
    """[object-replicator] concurrency = n in every node's config."""
    import configparser
    for i in range(1, cluster.nodes + 1):
        path = os.path.join(cluster.dir, 'etc', 'object-server-%d.conf' % i)
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(path)
        cp['object-replicator']['concurrency'] = str(n)
        with open(path, 'w') as f:
            cp.write(f)


def passed_since(cluster, nodes, since):
    """True once each node's replicator finished a pass that started after
    'since' (Unix time)."""
    for i in nodes:
        stats = cluster.recon(i).get('replication_stats') or {}
        if stats.get('start', 0) <= since:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(REPO, 'build'))
    ap.add_argument('--objects', type=int, default=2000)
    ap.add_argument('--size', type=int, default=65536)
    ap.add_argument('--threads', type=int, default=16)
    ap.add_argument('--scenario', choices=('drain', 'down', 'add'),
                    default='drain')
    ap.add_argument('--concurrency', type=int, default=0,
                    help="the replicators' concurrency (default: the aio's)")
    ap.add_argument('--keep', action='store_true',
                    help='leave the aio (stopped) and its logs')
    args = ap.parse_args()
    os.environ['KURA_BUILD'] = os.path.abspath(args.build)
    sys.path.insert(0, os.path.join(REPO, 'tests', 'probe'))
    sys.path.insert(0, os.path.join(REPO, 'bench'))
    import probe  # reads KURA_BUILD
    from replication import log
    from test_node_remove import ring_cli, rebalance

    tmp = tempfile.mkdtemp(prefix='kura-bench-rebal-')
    cluster = probe.Cluster(tmp, nodes=4, devices=2)
    try:
        result('loadavg_1m', '%.2f' % os.getloadavg()[0])
        cluster.start()
        weight = {kind: {d['weight'] for d in cluster.ring_devs(kind).values()
                         if cluster.node_of(d) == NODE}
                  for kind in probe.SERVER_KINDS}
        if args.scenario == 'add':
            # node 4 runs but holds nothing: weight 0 before the load
            change_rings(cluster, ring_cli, rebalance, 'set_weight',
                         cluster.node_ip(NODE), '0')
        if args.concurrency:
            set_concurrency(cluster, args.concurrency)
        if args.scenario == 'add' or args.concurrency:
            # restarted: the proxy places the load by the new ring at once
            # (it reloads within 15 s), the replicators take their config
            cluster.aio('stop')
            cluster.start()
        t0 = time.monotonic()
        etags = load(cluster, args.objects, args.size, args.threads)
        result('load_s', '%.1f' % (time.monotonic() - t0),
               objects=args.objects, size=args.size)
        acct = cluster.account
        paths = ['%s/rebal/%s' % (acct, n) for n in sorted(etags)]

        def etag_ok(path, headers):
            want = etags[path.rsplit('/', 1)[1]]
            got = headers.get('etag', '').strip('"')
            return None if got == want else got

        cluster.wait_replicas(paths, TIMEOUT, etag_ok, 'after the load')
        hashes = {p: cluster.name_hash(*p.split('/', 2)) for p in paths}

        def leftovers(placed, skip=None):
            """[(path, (node, device))] of copies on devices that are
            not the path's primaries in 'placed' (node 'skip' aside)."""
            now = copies_on_disk(cluster)
            bad = []
            for p in paths:
                want = {(cluster.node_of(d), d['device'])
                        for d in placed[p][1]}
                bad += [(p, w) for w in now.get(hashes[p], ())
                        if w not in want and w[0] != skip]
            return bad

        if args.scenario != 'down':
            old_placed = cluster.primaries(paths)
            probe.wait_until(lambda: not leftovers(old_placed), TIMEOUT,
                             'copies off the primaries after the load')

        if args.scenario == 'down':
            # down for long: the handoffs took its copies (a pass that
            # started after the stop ended on every other node) before the
            # operator removes it, and they count as holders below
            stopped = time.time()
            cluster.stop_node(NODE)
            probe.wait_until(lambda: passed_since(cluster, (1, 2, 3),
                                                  stopped), TIMEOUT,
                             'a replicator pass with node %d down' % NODE)

        # the snapshot: what every device holds, what the old ring says
        before = copies_on_disk(cluster)
        old_ring = ring_assignments(cluster.ring_path('object'))
        offsets = log_offsets(cluster)
        for p in paths:
            assert len(before.get(hashes[p], ())) >= 3, (p, before.get(
                hashes[p]))

        t_change = time.monotonic()
        wall_change = time.time()
        if args.scenario == 'down':
            change_rings(cluster, ring_cli, rebalance, 'remove',
                         cluster.node_ip(NODE))
        elif args.scenario == 'drain':
            change_rings(cluster, ring_cli, rebalance, 'set_weight',
                         cluster.node_ip(NODE), '0')
        else:
            for kind in probe.SERVER_KINDS:
                (w,) = weight[kind]
                change_rings(cluster, ring_cli, rebalance, 'set_weight',
                             cluster.node_ip(NODE), '%g' % w, kinds=[kind])
        new_ring = ring_assignments(cluster.ring_path('object'))
        placed = cluster.primaries(paths)

        objects_min = 0
        for p in paths:
            want = {(cluster.node_of(d), d['device']) for d in placed[p][1]}
            objects_min += len(want - before[hashes[p]])
        bytes_min = objects_min * args.size
        # the (partition, device) pairs that must receive something
        need = set()
        for p in paths:
            part, devs = placed[p]
            need.update((part, cluster.node_of(d), d['device']) for d in devs
                        if (cluster.node_of(d), d['device'])
                        not in before[hashes[p]])
        parts_changed = len(new_ring - old_ring)
        parts_min = len(need)
        log('minimum: %d objects, %d bytes, %d partition assignments' % (
            objects_min, bytes_min, parts_min))

        skip = NODE if args.scenario == 'down' else None
        cluster.wait_replicas(paths, TIMEOUT, etag_ok, 'on new primaries')
        probe.wait_until(lambda: not leftovers(placed, skip), TIMEOUT,
                         'copies off the new primaries')
        converge = time.monotonic() - t_change
        log('converged in %.1f s; waiting for one more pass' % converge)
        nodes = [i for i in range(1, 5) if i != skip]
        probe.wait_until(lambda: passed_since(
            cluster, nodes, wall_change + converge), TIMEOUT,
            'a replicator pass after convergence')

        puts, nbytes, created, parts, ssyncs = replication_writes(offsets)
        ratios = {
            'objects': puts / objects_min if objects_min else 0,
            'bytes': nbytes / bytes_min if bytes_min else 0,
            'parts': len(parts) / parts_min if parts_min else 0,
        }
        result('objects_min', objects_min, scenario=args.scenario,
               concurrency=args.concurrency or 'aio')
        result('objects_moved', puts, created=created)
        result('objects_ratio', '%.3f' % ratios['objects'])
        result('bytes_min', bytes_min)
        result('bytes_moved', nbytes)
        result('bytes_ratio', '%.3f' % ratios['bytes'])
        result('parts_min', parts_min, changed=parts_changed)
        result('parts_moved', len(parts), ssyncs=ssyncs)
        result('parts_ratio', '%.3f' % ratios['parts'])
        result('converge_s', '%.1f' % converge)
    finally:
        cluster.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log('kept ' + tmp)
    print()
    print('%-28s %-14s %-14s %-8s %s' % ('figure', 'minimum', 'moved',
                                         'ratio', 'target'))
    print('%-28s %-14d %-14d %-8.3f <= 1.05' % (
        'objects (replication PUTs)', objects_min, puts, ratios['objects']))
    print('%-28s %-14d %-14d %-8.3f <= 1.05' % (
        'bytes', bytes_min, nbytes, ratios['bytes']))
    print('%-28s %-14d %-14d %-8.3f <= 1.05' % (
        '(part, device) assignments', parts_min, len(parts),
        ratios['parts']))
    print('%-28s %.1f s' % ('ring written -> in place', converge))


if __name__ == '__main__':
    main()
