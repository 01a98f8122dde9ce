"""kura aio: the all-in-one cluster started, checked, stopped and restarted
for real, in a temp dir on free ports.

The storage servers must answer on their ports, status must say so, a
second start must leave the running daemons alone, stop must stop them all
and a restart must reuse the rings and secrets byte for byte. Until
kura-proxy is built, start starts the storage servers and exits 2 saying
so; the checks that need the proxy are skipped.

Binaries: $KURA_BUILD/tools/kura (KURA_BUILD defaults to <repo>/build),
which finds the daemons beside it in the build tree.
Run with: /usr/bin/python3 -m pytest tests/functional/test_aio.py
"""
import gzip
import http.client
import json
import os
import random
import re
import socket
import stat
import struct
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get('KURA_BUILD',
                                       os.path.join(REPO, 'build')))
KURA = os.path.join(BUILD, 'tools', 'kura')
PROXY = os.path.join(BUILD, 'proxy', 'kura-proxy')
HAVE_PROXY = os.access(PROXY, os.X_OK)
STORAGE = ['object-server', 'container-server', 'account-server']

pytestmark = pytest.mark.skipif(not os.access(KURA, os.X_OK),
                                reason='kura not built: ' + KURA)


def needs_proxy():
    if not HAVE_PROXY:
        pytest.skip('kura-proxy not built: ' + PROXY)


def port_free(port):
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_ports(nodes):
    """A proxy port and a storage base port whose nodes' ports (base +
    10 * i + 0..2) are all free."""
    proxy = free_port()
    for _ in range(200):
        base = random.randrange(20000, 60000)
        ports = [base + 10 * i + k for i in range(nodes) for k in range(3)]
        if proxy not in ports and all(port_free(p) for p in ports):
            return proxy, base
    raise RuntimeError('no free storage ports')


def kura(*args, env=None):
    p = subprocess.run([KURA, 'aio'] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


def fields(stdout):
    """'key:   value' lines of start's report."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r'^(\w+):\s+(.*)$', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def status(d, *extra):
    """{name: (pid or None, state, port or None)} and the exit status."""
    rc, out, err = kura('status', '--dir', d, *extra)
    rows = {}
    for line in out.splitlines():
        name, pid, state, port = line.split()
        rows[name] = (None if pid == '-' else int(pid), state,
                      None if port == '-' else int(port))
    return rows, rc


def answers(port, path, ip='127.0.0.1'):
    """The status a server on ip:port gives a HEAD of path."""
    conn = http.client.HTTPConnection(ip, port, timeout=10)
    try:
        conn.request('HEAD', path)
        return conn.getresponse().status
    finally:
        conn.close()


def listening(port, ip='127.0.0.1'):
    try:
        socket.create_connection((ip, port), 1).close()
        return True
    except OSError:
        return False


class Cluster:
    def __init__(self, tmp, nodes=1, devices=None):
        self.dir = os.path.join(tmp, 'aio')
        self.nodes = nodes
        self.port, self.storage_port = free_ports(nodes)
        self.args = ['--dir', self.dir, '--port', str(self.port),
                     '--storage-port', str(self.storage_port),
                     '--nodes', str(nodes)]
        if devices:
            self.args += ['--devices', str(devices)]

    def start(self, *extra):
        rc, out, err = kura('start', *(self.args + list(extra)))
        if HAVE_PROXY:
            assert rc == 0, err
        else:
            assert rc == 2, err
            assert 'kura-proxy not built' in err
        return out

    def names(self):
        if self.nodes == 1:
            return list(STORAGE)
        return ['%s-%d' % (s, i) for i in range(1, self.nodes + 1)
                for s in STORAGE]

    def port_of(self, name):
        m = re.match(r'(\w+)-server(?:-(\d+))?$', name)
        node = int(m.group(2) or 1)
        return (self.storage_port + 10 * (node - 1) +
                ['object', 'container', 'account'].index(m.group(1)))

    def ip_of(self, name):
        """Node i of several listens on 127.0.0.i."""
        m = re.search(r'-(\d+)$', name)
        return '127.0.0.%d' % (int(m.group(1)) if m else 1)

    def listening(self, name):
        return listening(self.port_of(name), self.ip_of(name))

    def rings(self):
        out = {}
        for r in ('account', 'container', 'object'):
            with open(os.path.join(self.dir, 'etc', r + '.ring.gz'),
                      'rb') as f:
                out[r] = f.read()
        return out


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path))
    yield c
    kura('stop', '--dir', c.dir)


@pytest.fixture
def cluster3(tmp_path):
    c = Cluster(str(tmp_path), nodes=3)
    yield c
    kura('stop', '--dir', c.dir)


def ring_devs(data):
    """The devices of a Swift ring file: 'R1NG', version 1, then a JSON
    header of that length."""
    raw = gzip.decompress(data)
    assert raw[:4] == b'R1NG'
    (version,) = struct.unpack('!H', raw[4:6])
    assert version == 1
    (n,) = struct.unpack('!I', raw[6:10])
    return [d for d in json.loads(raw[10:10 + n])['devs'] if d]


def test_start_status_stop_restart(cluster):
    out = cluster.start()
    f = fields(out)
    assert f['dir'] == cluster.dir
    for name in cluster.names():
        assert cluster.listening(name), name
    # each server answers its own API: no such account, container, object
    assert answers(cluster.storage_port + 2, '/d1/0/AUTH_none') == 404
    assert answers(cluster.storage_port + 1, '/d1/0/AUTH_none/c') == 404
    assert answers(cluster.storage_port, '/d1/0/AUTH_none/c/o') == 404

    rows, rc = status(cluster.dir)
    assert rc == (0 if HAVE_PROXY else 3)
    for name in cluster.names():
        pid, state, port = rows[name]
        assert state == 'running' and pid > 0, name
        assert port == cluster.port_of(name)
    assert rows['proxy-server'][2] == cluster.port
    assert rows['proxy-server'][1] == ('running' if HAVE_PROXY
                                       else 'stopped')

    # idempotent: the same processes go on
    out = cluster.start()
    assert 'already running' in out
    assert status(cluster.dir)[0] == rows

    etc = os.path.join(cluster.dir, 'etc')
    rings = cluster.rings()
    with open(os.path.join(etc, 'swift.conf'), 'rb') as f:
        secrets = f.read()

    rc, out, err = kura('stop', '--dir', cluster.dir)
    assert rc == 0, err
    for name in cluster.names():
        assert not cluster.listening(name), name
    rows, rc = status(cluster.dir)
    assert rc == 3
    assert all(r[0] is None and r[1] == 'stopped' for r in rows.values())
    assert not [p for p in os.listdir(os.path.join(cluster.dir, 'run'))
                if p.endswith('.pid')]
    # stopping again is no error
    assert kura('stop', '--dir', cluster.dir)[0] == 0

    # a restart reuses rings and secrets; the options come from aio.json
    rc, out, err = kura('start', '--dir', cluster.dir)
    assert rc == (0 if HAVE_PROXY else 2), err
    assert cluster.rings() == rings
    with open(os.path.join(etc, 'swift.conf'), 'rb') as f:
        assert f.read() == secrets
    rows, rc = status(cluster.dir)
    for name in cluster.names():
        assert rows[name][1] == 'running', name
    assert answers(cluster.storage_port + 2, '/d1/0/AUTH_none') == 404


def test_layout_files(cluster):
    cluster.start()
    etc = os.path.join(cluster.dir, 'etc')
    mode = stat.S_IMODE(os.stat(os.path.join(etc, 'swift.conf')).st_mode)
    assert mode == 0o600
    with open(os.path.join(etc, 'swift.conf')) as f:
        conf = f.read()
    assert re.search(r'^swift_hash_path_prefix = [0-9a-f]{16}$', conf, re.M)
    assert re.search(r'^swift_hash_path_suffix = [0-9a-f]{16}$', conf, re.M)
    for d in range(1, 5):
        assert os.path.isdir(os.path.join(cluster.dir, 'devices', 'd%d' % d))
    for name in cluster.names():
        with open(os.path.join(etc, name + '.conf')) as f:
            conf = f.read()
        assert 'mount_check = false' in conf
        assert 'bind_port = %d' % cluster.port_of(name) in conf
        assert 'devices = %s/devices' % cluster.dir in conf
        assert 'swift_dir = %s' % etc in conf
    with open(os.path.join(etc, 'proxy-server.conf')) as f:
        conf = f.read()
    assert 'bind_port = %d' % cluster.port in conf
    assert 'account_autocreate = true' in conf
    assert 'user_test_tester = testing .admin' in conf
    for kind, offset in (('object', 0), ('container', 1), ('account', 2)):
        devs = ring_devs(cluster.rings()[kind])
        assert sorted((d['device'], d['zone'], d['port']) for d in devs) == [
            ('d%d' % i, i, cluster.storage_port + offset)
            for i in range(1, 5)]
        assert {d['ip'] for d in devs} == {'127.0.0.1'}


def test_other_layout_refused(cluster):
    cluster.start()
    rc, out, err = kura('start', '--dir', cluster.dir, '--nodes', '2')
    assert rc == 2
    assert '--nodes 1' in err and len(err.splitlines()) == 1
    rc, out, err = kura('start', '--dir', cluster.dir, '--port',
                        str(cluster.port + 1))
    assert rc == 2 and 'another --dir' in err


def test_three_nodes(cluster3):
    c = cluster3
    c.start()
    rows, _ = status(c.dir)
    for name in c.names():
        assert rows[name][1] == 'running', name
        assert c.listening(name), name
    # d1..d4 round-robin over the nodes: d4 back on node 1
    on = {1: ['d1', 'd4'], 2: ['d2'], 3: ['d3']}
    for node, devs in on.items():
        assert sorted(os.listdir(os.path.join(c.dir, 'nodes', str(node)))) \
            == devs
    for kind, offset in (('object', 0), ('container', 1), ('account', 2)):
        devs = {d['device']: d for d in ring_devs(c.rings()[kind])}
        for node, names in on.items():
            for dev in names:
                assert devs[dev]['port'] == \
                    c.storage_port + 10 * (node - 1) + offset
                assert devs[dev]['ip'] == '127.0.0.%d' % node
                assert devs[dev]['replication_ip'] == '127.0.0.%d' % node
        assert sorted(d['zone'] for d in devs.values()) == [1, 2, 3, 4]
    # an account server finds its own device
    conn = http.client.HTTPConnection('127.0.0.3', c.port_of(
        'account-server-3'), timeout=10)
    conn.request('PUT', '/d3/0/AUTH_x', headers={
        'X-Timestamp': '1700000000.00000'})
    assert conn.getresponse().status == 201
    conn.close()
    assert os.path.isdir(os.path.join(c.dir, 'nodes', '3', 'd3',
                                      'accounts.ldb'))


def test_dead_daemon_on_start_fails_and_cleans_up(cluster):
    """A storage port already taken: start refuses before starting any."""
    s = socket.socket()
    s.bind(('127.0.0.1', cluster.storage_port + 1))
    s.listen()
    try:
        rc, out, err = kura('start', *cluster.args)
    finally:
        s.close()
    assert rc == 2
    assert 'in use' in err
    rows, rc = status(cluster.dir)
    assert rc == 3
    assert all(r[1] == 'stopped' for r in rows.values())


def test_endpoint_and_credentials(cluster):
    needs_proxy()
    f = fields(cluster.start())
    base = 'http://127.0.0.1:%d' % cluster.port
    assert f['auth'] == base + '/auth/v1.0'
    assert f['user'] == 'test:tester'
    assert f['key'] == 'testing'
    assert f['storage'] == base + '/v1/AUTH_test'
    assert f['try'] == ('swift -A %s/auth/v1.0 -U test:tester -K testing '
                        'stat' % base)


def test_proxy_round_trip(cluster):
    needs_proxy()
    cluster.start()
    conn = http.client.HTTPConnection('127.0.0.1', cluster.port, timeout=30)

    def req(method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()

    st, hdrs, _ = req('GET', '/auth/v1.0', headers={
        'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'})
    assert st == 200
    token = hdrs['X-Auth-Token']
    assert hdrs['X-Storage-Url'].endswith('/v1/AUTH_test')
    auth = {'X-Auth-Token': token}
    assert req('PUT', '/v1/AUTH_test/c', headers=auth)[0] in (201, 202)
    assert req('PUT', '/v1/AUTH_test/c/o', b'hello', auth)[0] == 201
    st, _, body = req('GET', '/v1/AUTH_test/c/o', headers=auth)
    assert (st, body) == (200, b'hello')
    conn.close()


def auth_token(port):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    try:
        conn.request('GET', '/auth/v1.0', headers={
            'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        return resp.headers['X-Auth-Token']
    finally:
        conn.close()


def wait_for_line(path, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path, errors='replace') as f:
                if text in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError('%r never appeared in %s' % (text, path))


def test_stop_finishes_request_in_flight(cluster):
    """A PUT whose body is half sent when 'kura aio stop' begins completes
    (the proxy stops first and finishes it, the storage servers after),
    and the object is there after a restart."""
    needs_proxy()
    cluster.start()
    auth = {'X-Auth-Token': auth_token(cluster.port)}
    conn = http.client.HTTPConnection('127.0.0.1', cluster.port, timeout=60)
    conn.request('PUT', '/v1/AUTH_test/c', headers=auth)
    resp = conn.getresponse()
    resp.read()
    assert resp.status in (201, 202)
    body = os.urandom(256 * 1024)
    conn.putrequest('PUT', '/v1/AUTH_test/c/inflight')
    conn.putheader('X-Auth-Token', auth['X-Auth-Token'])
    conn.putheader('Content-Length', str(len(body)))
    conn.endheaders()
    conn.send(body[:1000])
    stop = subprocess.Popen([KURA, 'aio', 'stop', '--dir', cluster.dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    try:
        # the proxy has its SIGTERM: the rest of the body comes after it
        wait_for_line(os.path.join(cluster.dir, 'log', 'proxy-server.log'),
                      'proxy-server stopping')
        conn.send(body[1000:])
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        assert resp.headers['Connection'] == 'close'
        out, err = stop.communicate(timeout=60)
    finally:
        if stop.poll() is None:
            stop.kill()
        conn.close()
    assert stop.returncode == 0, err
    assert 'SIGKILL' not in err
    assert status(cluster.dir)[1] == 3

    cluster.start()
    auth = {'X-Auth-Token': auth_token(cluster.port)}
    conn = http.client.HTTPConnection('127.0.0.1', cluster.port, timeout=30)
    conn.request('GET', '/v1/AUTH_test/c/inflight', headers=auth)
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, body)
    conn.close()


def test_stop_does_not_wait_for_idle_connections(cluster):
    """Idle keep-alive connections (a client's to the proxy, the proxy's
    pooled ones to the storage servers) are closed at once: the stop does
    not sit out the servers' 5 s grace for in-flight requests."""
    needs_proxy()
    cluster.start()
    auth = {'X-Auth-Token': auth_token(cluster.port)}
    conn = http.client.HTTPConnection('127.0.0.1', cluster.port, timeout=30)
    for method, path, body in (('PUT', '/v1/AUTH_test/c', None),
                               ('PUT', '/v1/AUTH_test/c/o', b'x'),
                               ('GET', '/v1/AUTH_test/c/o', None)):
        conn.request(method, path, body=body, headers=auth)
        resp = conn.getresponse()
        resp.read()
        assert resp.status < 300
    backend = http.client.HTTPConnection('127.0.0.1', cluster.storage_port,
                                         timeout=30)
    backend.request('HEAD', '/d1/0/AUTH_none/c/o')
    backend.getresponse().read()
    try:
        start = time.monotonic()
        rc, out, err = kura('stop', '--dir', cluster.dir)
        took = time.monotonic() - start
    finally:
        conn.close()
        backend.close()
    assert rc == 0, err
    assert took < 4.5, 'stop took %.1f s' % took


BACKGROUND = ['object-replicator', 'object-auditor', 'object-updater',
              'object-expirer']
BACKGROUND_BINARIES = {
    'object-replicator': 'kura-replicator',
    'object-auditor': 'kura-auditor',
    'object-updater': 'kura-updater',
    'object-expirer': 'kura-expirer',
}


def built_background():
    """The background daemons whose binaries are built: aio runs those."""
    return [n for n in BACKGROUND if os.access(os.path.join(
        BUILD, 'replicator', BACKGROUND_BINARIES[n]), os.X_OK)]


def read_conf(path):
    """{section: {key: value}} of a config aio wrote (no continuations)."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(('#', ';')):
                continue
            if line.startswith('['):
                section = out.setdefault(line[1:-1], {})
            else:
                k, v = line.split('=', 1)
                section[k.strip()] = v.strip()
    return out


@pytest.fixture
def cluster4x2(tmp_path):
    c = Cluster(str(tmp_path), nodes=4, devices=2)
    yield c
    kura('stop', '--dir', c.dir)


def test_nodes_times_devices(cluster4x2):
    """--nodes 4 --devices 2: d1..d8, node i has d(2i-1) and d(2i) in zone
    i on 127.0.0.i and its own ports; configs carry the node's address,
    devices, recon cache and the background daemons' sections."""
    c = cluster4x2
    c.start()
    etc = os.path.join(c.dir, 'etc')
    with open(os.path.join(etc, 'aio.json')) as f:
        assert json.load(f)['devices'] == 2
    for node in range(1, 5):
        assert sorted(os.listdir(os.path.join(c.dir, 'nodes', str(node)))) \
            == ['d%d' % (2 * node - 1), 'd%d' % (2 * node)]
    for kind, offset in (('object', 0), ('container', 1), ('account', 2)):
        devs = ring_devs(c.rings()[kind])
        assert len(devs) == 8
        for d in devs:
            node = (int(d['device'][1:]) + 1) // 2
            assert (d['zone'], d['ip'], d['port'], d['replication_ip'],
                    d['replication_port']) == (
                node, '127.0.0.%d' % node,
                c.storage_port + 10 * (node - 1) + offset,
                '127.0.0.%d' % node,
                c.storage_port + 10 * (node - 1) + offset)
    for name in c.names():
        assert c.listening(name), name
        conf = read_conf(os.path.join(etc, name + '.conf'))
        node = int(name.rsplit('-', 1)[1])
        default = conf['DEFAULT']
        assert default['bind_ip'] == '127.0.0.%d' % node
        assert default['devices'] == os.path.join(c.dir, 'nodes', str(node))
        assert default['recon_cache_path'] == os.path.join(
            c.dir, 'recon', str(node))
        if name.startswith('object-'):
            for section in BACKGROUND:
                assert conf[section]['log_file'] == os.path.join(
                    c.dir, 'log', '%s-%d.log' % (section, node))
                assert float(conf[section]['interval']) <= 30
        else:
            kind = name.split('-')[0]
            assert float(conf[kind + '-replicator']['interval']) <= 30
    # the object server of node 3 serves d5 and d6, and nothing of node 1
    ip, port = '127.0.0.3', c.port_of('object-server-3')
    assert answers(port, '/d5/0/a/c/o', ip) == 404
    assert answers(port, '/d1/0/a/c/o', ip) == 507
    # the proxy is on --ip alone; a server is not on 127.0.0.1
    assert not listening(c.port_of('object-server-3'))


def test_ring_remove_by_ip_takes_one_node(cluster4x2):
    """What the distinct addresses are for: kura-ring's 'remove <ip>'
    matches exactly the devices of one node."""
    c = cluster4x2
    c.start()
    builder = os.path.join(str(os.path.dirname(c.dir)), 'object.builder')
    with open(os.path.join(c.dir, 'etc', 'object.builder'), 'rb') as src, \
            open(builder, 'wb') as dst:
        dst.write(src.read())
    ring = os.path.join(BUILD, 'tools', 'kura-ring')
    p = subprocess.run([ring, builder, 'remove', '127.0.0.2', '--yes'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([ring, builder], capture_output=True, text=True,
                       timeout=60)
    marked = sorted(line.split()[5] for line in p.stdout.splitlines()
                    if line.rstrip().endswith('DEL'))
    assert marked == ['d3', 'd4'], p.stdout


def test_two_nodes_zone_per_device(tmp_path):
    """Fewer nodes than replicas: each device is a zone of its own."""
    c = Cluster(str(tmp_path), nodes=2, devices=2)
    try:
        c.start()
        devs = ring_devs(c.rings()['object'])
        assert sorted((d['device'], d['zone'], d['ip']) for d in devs) == [
            ('d1', 1, '127.0.0.1'), ('d2', 2, '127.0.0.1'),
            ('d3', 3, '127.0.0.2'), ('d4', 4, '127.0.0.2')]
    finally:
        kura('stop', '--dir', c.dir)


def test_bad_layouts_refused(tmp_path):
    d = str(tmp_path / 'aio')
    for args, why in ((['--devices', '0'], 'bad --devices'),
                      (['--devices', '9'], 'bad --devices'),
                      (['--nodes', '1', '--devices', '2'], '3 or more'),
                      (['--nodes', '3', '--ip', '127.0.0.253'],
                       'under 256'),
                      (['--nodes', '2', '--node', '3'], '--node 3')):
        port, base = free_ports(4)
        rc, out, err = kura('start', '--dir', d, '--port', str(port),
                            '--storage-port', str(base), *args)
        assert rc == 2, args
        assert why in err, (args, err)
        assert len(err.splitlines()) == 1, err
        assert not os.path.exists(os.path.join(d, 'etc')), args
    rc, out, err = kura('stop', '--dir', d, '--port', '1')
    assert rc == 2 and 'only --dir and --node' in err


def test_stop_and_start_one_node(tmp_path):
    """stop --node 2 stops node 2's daemons only (its addresses stop
    answering, the others and the proxy go on); start --node 2 brings back
    just those."""
    c = Cluster(str(tmp_path), nodes=3, devices=1)
    try:
        c.start()
        before, rc = status(c.dir)
        bg = built_background()
        for i in range(1, 4):
            for name in bg:
                assert before['%s-%d' % (name, i)][1:] == ('running', None)
        rc, out, err = kura('stop', '--dir', c.dir, '--node', '2')
        assert rc == 0, err
        assert 'stopped %d daemons' % (3 + len(bg)) in out
        rows, rc = status(c.dir)
        assert rc == 3
        for name, (pid, state, port) in rows.items():
            if name.endswith('-2'):
                assert state == 'stopped', name
            else:
                assert (pid, state) == before[name][:2], name
        for name in c.names():
            assert c.listening(name) == (not name.endswith('-2')), name
        only2, rc = status(c.dir, '--node', '2')
        assert rc == 3 and sorted(only2) == sorted(
            n for n in rows if n.endswith('-2'))

        rc, out, err = kura('start', '--dir', c.dir, '--node', '2')
        assert rc == 0, err
        assert 'started' in out
        rows, rc = status(c.dir)
        assert rc == (0 if HAVE_PROXY else 3)
        for name, (pid, state, port) in rows.items():
            if name.endswith('-2'):
                assert state == 'running' and pid != before[name][0], name
            else:
                assert (pid, state) == before[name][:2], name
        assert c.listening('object-server-2')
        rc, out, err = kura('start', '--dir', c.dir, '--node', '2')
        assert rc == 0 and 'already running' in out
        rc, out, err = kura('stop', '--dir', c.dir, '--node', '4')
        assert rc == 2 and '3 nodes' in err
    finally:
        kura('stop', '--dir', c.dir)


def test_background_daemons(cluster):
    """The background daemons that are built run beside the one node's
    servers, read its object server's config and log to files of their
    own; stop ends them."""
    bg = built_background()
    if not bg:
        pytest.skip('no background daemon built (replicator/kura-*)')
    cluster.start()
    rows, _ = status(cluster.dir)
    conf = os.path.join(cluster.dir, 'etc', 'object-server.conf')
    for name in bg:
        pid, state, port = rows[name]
        assert (state, port) == ('running', None), name
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().rstrip(b'\0').split(b'\0')
        assert os.path.basename(argv[0]).decode() == \
            BACKGROUND_BINARIES[name]
        assert argv[-1].decode() == conf
        wait_for_line(os.path.join(cluster.dir, 'log', name + '.log'), name)
    assert read_conf(conf)['DEFAULT']['recon_cache_path'] == os.path.join(
        cluster.dir, 'recon')
    rc, out, err = kura('stop', '--dir', cluster.dir)
    assert rc == 0, err
    for name in bg:
        assert gone(rows[name][0]), name


def gone(pid):
    """True if pid has exited (a zombie waiting for init counts)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except FileNotFoundError:
        return True
