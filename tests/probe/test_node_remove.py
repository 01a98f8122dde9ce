"""Issue 5, acceptance 2: a node down for long is removed from the rings
by its IP, the rings rebalanced and pushed (the daemons pick them up
without a restart); every object, container and the account then sit on
their new primaries, copies left on devices that are no longer primaries
are reverted and removed, and nothing is lost. Then the node comes back
the same way, with new disks.
"""
import hashlib
import os
import subprocess

import probe

CONTAINERS = 6
PER_CONTAINER = 40
NODE = 4
TIMEOUT = 240


def ring_cli(cluster, kind, *args):
    """kura-ring on the cluster's builder of 'kind'; the rebalance writes
    <kind>.ring.gz beside it, which is the ring every daemon reads."""
    p = subprocess.run(
        [probe.KURA_RING, os.path.join(cluster.dir, 'etc', kind + '.builder')]
        + list(args), capture_output=True, text=True, timeout=120)
    # swift-ring-builder's exit 1 is a warning (e.g. balance not perfect)
    assert p.returncode in (0, 1), '%s %s: %s%s' % (kind, args, p.stdout,
                                                    p.stderr)
    return p.stdout


def rebalance(cluster, kind):
    before = os.stat(cluster.ring_path(kind)).st_mtime_ns
    ring_cli(cluster, kind, 'rebalance')
    assert os.stat(cluster.ring_path(kind)).st_mtime_ns != before, \
        kind + ' ring not rewritten'


def load(cluster):
    conn = cluster.swift()
    bodies = {}
    for c in range(CONTAINERS):
        conn.put_container('c%d' % c)
        for o in range(PER_CONTAINER):
            body = ('%d/%d ' % (c, o)).encode() * (1 + o)
            conn.put_object('c%d' % c, 'o%02d' % o, body)
            bodies['c%d/o%02d' % (c, o)] = hashlib.md5(body).hexdigest()
    return bodies


def test_remove_a_node_by_ip_then_add_it_back(cluster):
    probe.require(probe.binary('kura-replicator'))
    etags = load(cluster)
    account = cluster.account
    objects = ['%s/%s' % (account, n) for n in sorted(etags)]
    containers = ['%s/c%d' % (account, c) for c in range(CONTAINERS)]

    def etag_ok(path, headers):
        want = etags[path.split('/', 1)[1]]
        got = headers.get('etag', '').strip('"')
        return None if got == want else got

    def in_place(what):
        cluster.wait_replicas(objects, TIMEOUT, etag_ok, what + ': objects')
        cluster.wait_replicas(containers, TIMEOUT, None,
                              what + ': containers')
        cluster.wait_replicas([account], TIMEOUT, None, what + ': account')

    def no_leftovers(skip_node=None):
        """[(object, (node, device))] of object copies on devices that
        are not its primaries (the stopped node's own aside)."""
        placed = cluster.primaries(objects)
        bad = []
        for path in objects:
            a, c, o = path.split('/', 2)
            want = {(cluster.node_of(d), d['device'])
                    for d in placed[path][1]}
            for where in cluster.object_dirs(a, c, o):
                if where not in want and where[0] != skip_node:
                    bad.append((path, where))
        return bad

    in_place('after the load')
    old = {kind: [d for d in cluster.ring_devs(kind).values()
                  if cluster.node_of(d) == NODE]
           for kind in probe.SERVER_KINDS}
    assert all(len(v) == cluster.devices for v in old.values()), old

    # the node is down for long: out of every ring by its address
    cluster.stop_node(NODE)
    for kind in probe.SERVER_KINDS:
        ring_cli(cluster, kind, 'remove', cluster.node_ip(NODE), '--yes')
        rebalance(cluster, kind)
        assert not [d for d in cluster.ring_devs(kind).values()
                    if cluster.node_of(d) == NODE]
    in_place('after the removal')
    probe.wait_until(lambda: not no_leftovers(skip_node=NODE), TIMEOUT,
                     'copies off devices that are no longer primaries')

    # back with new disks, the same way
    for i in cluster.node_devices(NODE):
        path = cluster.device_path(NODE, i)
        subprocess.run(['rm', '-rf', path], check=True)
        os.mkdir(path)
    for kind, devs in old.items():
        for d in devs:
            ring_cli(cluster, kind, 'add', 'r%dz%d-%s:%d/%s' % (
                d['region'], d['zone'], d['ip'], d['port'], d['device']),
                str(d['weight']))
        ring_cli(cluster, kind, 'pretend_min_part_hours_passed')
        rebalance(cluster, kind)
    cluster.start_node(NODE)
    assert any(cluster.node_of(dev) == NODE
               for _, devs in cluster.primaries(objects).values()
               for dev in devs), 'the node got no partitions back'
    in_place('after the node came back')
    probe.wait_until(lambda: not no_leftovers(), TIMEOUT,
                     'no copies left off the primaries')
    conn = cluster.swift()
    for n, etag in etags.items():
        c, o = n.split('/')
        assert conn.head_object(c, o)['etag'].strip('"') == etag, n
