"""Container and account replication (doc/replication.md section 5) on a
one-node `kura aio`: four devices, rings of three replicas, so a DB's
replicas are on three devices of the same container (account) server, which
replicates them to each other over REPLICATE like any peers.

The aio's container-server.conf and account-server.conf get a
[container-replicator] / [account-replicator] section with interval = 1
(written when missing, else its interval shortened) before the servers
start for the tests. Copies are checked by direct requests to the servers'
devices, which `kura get-nodes` names.
"""
import configparser
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from cluster import BUILD, Cluster, free_port, free_port_range

KURA = os.path.join(BUILD, 'tools', 'kura')
DEADLINE = 180  # seconds; a busy 2-core machine is slow, never wrong


class Aio:
    def __init__(self):
        if not os.path.exists(KURA) or not os.path.exists(
                os.path.join(BUILD, 'proxy', 'kura-proxy')):
            pytest.skip('kura and kura-proxy not built')
        self.tmp = tempfile.mkdtemp(prefix='kura-dbrepl-')
        self.dir = os.path.join(self.tmp, 'aio')
        self.etc = os.path.join(self.dir, 'etc')
        self.port = free_port()
        self.base = free_port_range(16)
        self.start()
        self.stop()
        self.recon = {k: self.configure(k) for k in ('container', 'account')}
        self.start()

    def start(self):
        r = subprocess.run(
            [KURA, 'aio', 'start', '--dir', self.dir, '--port',
             str(self.port), '--storage-port', str(self.base), '--nodes', '1'],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (r.stdout, r.stderr)
        f = dict(re.findall(r'^\s*(\w+):\s+(\S+)\s*$', r.stdout, re.M))
        self.cluster = Cluster(f['auth'], f['user'], f['key'], self.tmp)
        self.started = time.time()

    def stop(self):
        subprocess.run([KURA, 'aio', 'stop', '--dir', self.dir],
                       capture_output=True, timeout=120)

    def conf_path(self, kind):
        return os.path.join(self.etc, '%s-server.conf' % kind)

    def configure(self, kind):
        """Our replicator section; returns the recon file it writes."""
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(self.conf_path(kind))
        section = '%s-replicator' % kind
        if not cp.has_section(section):
            cp.add_section(section)
        cp.set(section, 'interval', '1')
        if not cp.has_option(section, 'recon_cache_path'):
            cp.set(section, 'recon_cache_path',
                   os.path.join(self.tmp, 'recon'))
        with open(self.conf_path(kind), 'w') as f:
            cp.write(f)
        return os.path.join(cp.get(section, 'recon_cache_path'),
                            '%s.recon' % kind)

    def server_port(self, kind):
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(self.conf_path(kind))
        return int(cp.get('app:%s-server' % kind, 'bind_port'))

    def nodes(self, kind, account, container=None):
        """(partition, [primary devices], [handoff devices])."""
        args = [KURA, 'get-nodes', '-d', self.etc,
                os.path.join(self.etc, '%s.ring.gz' % kind), account]
        if container:
            args.append(container)
        out = subprocess.run(args, capture_output=True, text=True,
                             check=True).stdout
        part = int(re.search(r'^Partition\s+(\d+)', out, re.M).group(1))
        prim, hand = [], []
        for m in re.finditer(r'^Server:Port Device\s+\S+ (\S+)(.*)$', out,
                             re.M):
            (hand if 'Handoff' in m.group(2) else prim).append(m.group(1))
        return part, prim, hand

    def direct(self, kind, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.server_port(kind),
                                          timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                    resp.read())
        finally:
            conn.close()

    def recon_last(self, kind):
        try:
            with open(self.recon[kind]) as f:
                return json.load(f).get('replication_last', 0)
        except (OSError, ValueError):
            return 0

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope='module')
def aio():
    a = Aio()
    yield a
    a.close()


def wait_for(cond, what):
    deadline = time.time() + DEADLINE
    while True:
        got = cond()
        if got:
            return got
        assert time.time() < deadline, 'timed out waiting for ' + what
        time.sleep(0.5)


# what a container's copies must agree on
KEYS = ('x-backend-timestamp', 'x-backend-put-timestamp',
        'x-backend-delete-timestamp', 'x-backend-storage-policy-index',
        'x-container-object-count', 'x-container-bytes-used')
ACCOUNT_KEYS = ('x-backend-put-timestamp', 'x-backend-delete-timestamp',
                'x-account-container-count', 'x-account-object-count',
                'x-account-bytes-used')


def summary(status, headers, keys):
    meta = {k: v for k, v in headers.items() if '-meta-' in k}
    return status, {k: headers.get(k) for k in keys}, meta


def container_copy(aio, dev, part, c):
    path = '/%s/%d/AUTH_test/%s' % (dev, part, c)
    st, h, _ = aio.direct('container', 'HEAD', path)
    listing = None
    if st == 204:
        _, _, body = aio.direct('container', 'GET', path + '?format=json')
        listing = [(o['name'], o['hash'], o['bytes'], o['content_type'])
                   for o in json.loads(body)]
    return summary(st, h, KEYS), listing


def account_copy(aio, dev, part):
    st, h, _ = aio.direct('account', 'HEAD', '/%s/%d/AUTH_test' % (dev, part))
    return summary(st, h, ACCOUNT_KEYS)


def account_rows(aio, dev, part):
    st, _, body = aio.direct('account', 'GET', '/%s/%d/AUTH_test'
                             '?format=json&prefix=refill-' % (dev, part))
    return [(c['name'], c['count']) for c in json.loads(body)] \
        if st == 200 else None


def test_replicate_refuses_bad_input(aio):
    part, prim, _ = aio.nodes('container', 'AUTH_test', 'nosuch')
    path = '/%s/%d/%s' % (prim[0], part, '0' * 32)
    for body in (b'', b'not json', b'{}', b'[]', b'[1]', b'["nosuchop"]',
                 b'["sync"]', b'["sync", {"id": "x"}]',
                 b'["merge_items", [{"name": 1}], "x"]',
                 b'["merge_syncs", [{"remote_id": 5}]]',
                 b'["complete", {"id": "x", "put_timestamp": "nan"}]',
                 b'["complete", {"id": "x", "put_timestamp": "1.0", '
                 b'"delete_timestamp": "0", "metadata": {}}]'):
        st, _, _ = aio.direct('container', 'REPLICATE', path, body=body)
        assert st == 400, body
    # no such DB
    st, _, _ = aio.direct('container', 'REPLICATE', path,
                          body=b'["merge_syncs", []]')
    assert st == 404
    # the path names a DB by its hash
    st, _, _ = aio.direct('container', 'REPLICATE',
                          '/%s/%d/xyz' % (prim[0], part), body=b'[]')
    assert st == 400
    st, _, _ = aio.direct('container', 'REPLICATE',
                          '/nodev/%d/%s' % (part, '0' * 32),
                          body=b'["merge_syncs", []]')
    assert st == 507
    # a body over 16 MiB is refused before it is read
    st, _, _ = aio.direct('container', 'REPLICATE', path,
                          headers={'Content-Length': str(17 << 20)},
                          body=b'[')
    assert st == 413
    # the server is fine
    st, _, _ = aio.direct('account', 'REPLICATE', path,
                          body=b'["sync", {"id": "x"}]')
    assert st == 400


def test_handoff_db_is_reverted(aio):
    part, prim, hand = aio.nodes('container', 'AUTH_test', 'handoff-c')
    # the container exists only on a handoff, as after a PUT while its
    # primaries were down
    base = '/%s/%d/AUTH_test/handoff-c' % (hand[0], part)
    st, _, _ = aio.direct('container', 'PUT', base,
                          {'X-Timestamp': '%.5f' % time.time()})
    assert st == 201
    st, _, _ = aio.direct('container', 'PUT', base + '/obj',
                          {'X-Timestamp': '%.5f' % time.time(),
                           'X-Size': '5', 'X-Content-Type': 'text/plain',
                           'X-Etag': '0' * 32})
    assert st == 201

    def reverted():
        copies = [container_copy(aio, d, part, 'handoff-c') for d in prim]
        st, h, _ = aio.direct('container', 'HEAD', base)
        return (st == 404 and
                h.get('x-backend-put-timestamp', '').startswith('0000') and
                all(c[0][0] == 204 and
                    c[0][1]['x-container-object-count'] == '1' and
                    c[1] == [('obj', '0' * 32, 5, 'text/plain')]
                    for c in copies))
    wait_for(reverted, 'the handoff DB to reach its primaries and go')


def test_unmounted_peer_replaced_by_handoff(aio):
    part, prim, hand = aio.nodes('container', 'AUTH_test', 'standin-c')
    a, b, down = prim
    # the copy is on one primary only; another primary's device is gone
    # (507: not mounted) while it replicates
    path = '/%s/%d/AUTH_test/standin-c'
    st, _, _ = aio.direct('container', 'PUT', path % (a, part),
                          {'X-Timestamp': '%.5f' % time.time(),
                           'X-Container-Meta-Who': 'standin'})
    assert st == 201
    dev = os.path.join(aio.dir, 'devices', down)
    os.rename(dev, dev + '.off')
    try:
        def stood_in():
            return all(aio.direct('container', 'HEAD', path % (d, part))[0]
                       == 204 for d in (b, hand[0]))
        wait_for(stood_in, 'a handoff to stand in for the unmounted primary')
    finally:
        os.rename(dev + '.off', dev)

    # back: the primary gets its copy, the handoff's goes
    def reverted():
        st, h, _ = aio.direct('container', 'HEAD', path % (hand[0], part))
        return (st == 404 and
                h['x-backend-put-timestamp'].startswith('0000') and
                all(aio.direct('container', 'HEAD', path % (d, part))[1]
                    .get('x-container-meta-who') == 'standin'
                    for d in prim))
    wait_for(reverted, 'the handoff copy to reach the primary and go')


def test_sweep_reports_stale_stats(aio):
    # a container whose account did not exist when its rows came: every
    # account update was refused (404)
    part, prim, _ = aio.nodes('container', 'AUTH_sweep', 'c')
    for d in prim:
        path = '/%s/%d/AUTH_sweep/c' % (d, part)
        assert aio.direct('container', 'PUT', path,
                          {'X-Timestamp': '%.5f' % time.time()})[0] == 201
        assert aio.direct('container', 'PUT', path + '/o',
                          {'X-Timestamp': '%.5f' % time.time(),
                           'X-Size': '3', 'X-Content-Type': 'text/plain',
                           'X-Etag': '0' * 32})[0] == 201
    time.sleep(2)  # the updater's round (1 s) has come and gone
    apart, aprim, _ = aio.nodes('account', 'AUTH_sweep')
    for d in aprim:
        assert aio.direct('account', 'PUT', '/%s/%d/AUTH_sweep' % (d, apart),
                          {'X-Timestamp': '%.5f' % time.time()})[0] == 201

    # the replicator's pass finds the stale report, the updater sends it
    def reported():
        for d in aprim:
            st, _, body = aio.direct(
                'account', 'GET', '/%s/%d/AUTH_sweep?format=json' % (d, apart))
            if st != 200 or [(c['name'], c['count'])
                             for c in json.loads(body)] != [('c', 1)]:
                return False
        return True
    wait_for(reported, "the container's stats to reach its account")


def test_wiped_device_comes_back(aio):
    c = aio.cluster
    names = ['refill-%d' % i for i in range(6)]
    for i, name in enumerate(names):
        assert c.http('PUT', name, {'X-Container-Meta-Color': 'c%d' % i,
                                    'X-Container-Read': '.r:*'})[0] == 201
        for j in range(i + 1):
            assert c.http('PUT', '%s/o%d' % (name, j),
                          body=b'x' * (j + 1))[0] == 201
    assert c.http('PUT', 'refill-gone')[0] == 201
    assert c.http('DELETE', 'refill-gone')[0] == 204
    assert c.http('POST', '', {'X-Account-Meta-Refill': 'yes'})[0] == 204
    names.append('refill-gone')

    # the account's rows of them, as the container updater reports them
    expected_rows = [('refill-%d' % i, i + 1) for i in range(6)]

    # the device to wipe: a primary of the first container
    apart, aprim, _ = aio.nodes('account', 'AUTH_test')
    nodes = {n: aio.nodes('container', 'AUTH_test', n) for n in names}
    wiped = nodes[names[0]][1][0]

    def settled():
        """Every copy as every other (the updates of the PUTs above have
        reached the account's replicas)."""
        want = {}
        for n, (part, prim, _) in nodes.items():
            copies = [container_copy(aio, d, part, n) for d in prim]
            if any(x != copies[0] for x in copies):
                return None
            want[n] = copies[0]
        accounts = [account_copy(aio, d, apart) for d in aprim]
        if any(x != accounts[0] for x in accounts) or \
                any(account_rows(aio, d, apart) != expected_rows
                    for d in aprim):
            return None
        return want, accounts[0]
    want, want_account = wait_for(settled, 'the copies to agree')
    assert want['refill-gone'][0][0] == 404
    assert want['refill-0'][0][2]['x-container-meta-color'] == 'c0'
    assert len(want['refill-5'][1]) == 6

    aio.stop()
    for ldb in ('containers.ldb', 'accounts.ldb'):
        shutil.rmtree(os.path.join(aio.dir, 'devices', wiped, ldb))
    aio.start()
    restarted = aio.started

    def refilled():
        for n, (part, prim, _) in nodes.items():
            if wiped in prim and \
                    container_copy(aio, wiped, part, n) != want[n]:
                return False
        if wiped in aprim and (
                account_copy(aio, wiped, apart) != want_account or
                account_rows(aio, wiped, apart) != expected_rows):
            return False
        return True
    wait_for(refilled, 'the wiped device to be refilled')
    # a deleted container came back deleted (its delete timestamp with it)
    part, prim, _ = nodes['refill-gone']
    if wiped in prim:
        st, h, _ = aio.direct('container', 'HEAD',
                              '/%s/%d/AUTH_test/refill-gone' % (wiped, part))
        assert st == 404
        assert not h['x-backend-delete-timestamp'].startswith('0000')
    # and the passes were reported
    for kind in ('container', 'account'):
        wait_for(lambda: aio.recon_last(kind) > restarted,
                 'a %s replication pass' % kind)
        with open(aio.recon[kind]) as f:
            stats = json.load(f)['replication_stats']
        for key in ('attempted', 'success', 'failure', 'no_change', 'diff',
                    'rsync', 'remove', 'ts_repl', 'start'):
            assert key in stats
    # the listing through the proxy (a new token: the aio restarted)
    st, _, body = aio.cluster.http('GET', 'refill-5?format=json')
    assert st == 200 and len(json.loads(body)) == 6


def test_deleted_db_reclaimed(aio):
    c = aio.cluster
    assert c.http('PUT', 'keep-me')[0] == 201
    assert c.http('PUT', 'reclaim-me')[0] == 201
    assert c.http('DELETE', 'reclaim-me')[0] == 204
    part, prim, _ = aio.nodes('container', 'AUTH_test', 'reclaim-me')
    for d in prim:
        st, h, _ = aio.direct('container', 'HEAD',
                              '/%s/%d/AUTH_test/reclaim-me' % (d, part))
        assert st == 404
        assert not h['x-backend-delete-timestamp'].startswith('0000')
    # a second's reclaim_age: the deleted DB goes everywhere, the live
    # one stays
    aio.stop()
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(aio.conf_path('container'))
    cp.set('container-replicator', 'reclaim_age', '1')
    with open(aio.conf_path('container'), 'w') as f:
        cp.write(f)
    aio.start()

    def gone():
        for d in prim:
            st, h, _ = aio.direct('container', 'HEAD',
                                  '/%s/%d/AUTH_test/reclaim-me' % (d, part))
            if st != 404 or \
                    not h['x-backend-delete-timestamp'].startswith('0000'):
                return False
        return True
    wait_for(gone, 'the deleted container DB to be reclaimed')
    assert aio.cluster.http('HEAD', 'keep-me')[0] == 204
