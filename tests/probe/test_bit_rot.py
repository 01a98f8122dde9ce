"""Issue 5, acceptance 3: bit rot. A byte flipped in one replica's data:
a GET never hands out the bad bytes, the auditor quarantines the rotten
file, the replicator puts a good copy back, and every replica is in place
again.
"""
import hashlib
import os

import breakage
import probe


def _good_gets(conn, name, body, tries=12):
    """GETs through the proxy: each one is the object whole and right, or
    fails; never other bytes. Returns how many succeeded."""
    ok = 0
    for _ in range(tries):
        try:
            _, got = conn.get_object('c', name)
        except Exception:  # a cut stream or an error: never wrong bytes
            continue
        assert got == body, 'GET %s returned bytes that are not the object' \
            % name
        ok += 1
    return ok


def test_bit_rot_is_never_served_and_is_repaired(cluster):
    probe.require(probe.binary('kura-replicator'),
                  probe.binary('kura-auditor'))
    conn = cluster.swift()
    conn.put_container('c')
    account = cluster.account
    bodies = {n: os.urandom(20000 + i) for i, n in enumerate(['read', 'rest'])}
    for n, b in bodies.items():
        conn.put_object('c', n, b)
    paths = {n: '%s/c/%s' % (account, n) for n in bodies}
    cluster.wait_replicas(list(paths.values()), 120, what='after the load')

    # rot the first primary's copy of each, the one a GET asks first
    rotten = {}
    for n, path in paths.items():
        part, devs = cluster.primaries([path])[path]
        f = breakage.data_file(cluster, path, devs[0])
        assert f, 'no .data for %s on %s' % (path, devs[0]['device'])
        breakage.flip_byte(f, len(bodies[n]) // 2)
        rotten[n] = (f, devs[0])

    # 'read' is read at once: the object server checks the MD5 as it
    # streams and never lets the bad copy pass as the object
    assert _good_gets(conn, 'read', bodies['read']) > 0

    # 'rest' is left to the auditor: quarantined, then replaced
    f, dev = rotten['rest']
    node = cluster.node_of(dev)
    qdir = os.path.join(cluster.device_path(node, dev['device']),
                        'quarantined', 'objects')

    def quarantined():
        return os.path.isdir(qdir) and any(
            name.endswith('.data')
            for _, _, files in os.walk(qdir) for name in files)
    probe.wait_until(quarantined, 180, 'the auditor quarantines the copy')
    probe.wait_until(
        lambda: cluster.recon(node).get('object_auditor_stats_ALL', {}).get(
            'quarantined', 0) >= 1, 120, 'recon counts the quarantine')

    def etag_ok(path, headers):
        name = path.rsplit('/', 1)[1]
        want = hashlib.md5(bodies[name]).hexdigest()
        got = headers.get('etag', '').strip('"')
        return None if got == want else got

    cluster.wait_replicas(list(paths.values()), 180, etag_ok,
                          'good copies back after the rot')
    # the restored files hold the right bytes, not just the right name
    for n, path in paths.items():
        f2 = breakage.data_file(cluster, path, rotten[n][1])
        with open(f2, 'rb') as fh:
            assert fh.read(len(bodies[n])) == bodies[n], path
        assert _good_gets(conn, n, bodies[n], tries=3) == 3
