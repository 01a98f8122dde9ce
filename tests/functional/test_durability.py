"""Durability through kura-proxy: what a 2xx promised stays true when a
storage node dies mid-load, and an upload cut short leaves nothing behind.

An all-in-one cluster of four storage nodes (kura aio --nodes 4: each its
own object, container and account server and one device) on free ports.
"""
import glob
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get('KURA_BUILD',
                                       os.path.join(REPO, 'build')))
KURA = os.path.join(BUILD, 'tools', 'kura')
PROXY = os.path.join(BUILD, 'proxy', 'kura-proxy')

pytestmark = pytest.mark.skipif(
    not (os.access(KURA, os.X_OK) and os.access(PROXY, os.X_OK)),
    reason='kura or kura-proxy not built')


def free_port(span=1):
    """A port p with p..p+span-1 free (bound once to check)."""
    for _ in range(200):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        base = s.getsockname()[1]
        s.close()
        if base + span >= 65535:
            continue
        ok = True
        for p in range(base, base + span):
            t = socket.socket()
            try:
                t.bind(('127.0.0.1', p))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return base
    raise RuntimeError('no free ports')


class Cluster:
    def __init__(self, root):
        self.dir = str(root)
        self.port = free_port()
        self.storage = free_port(40)
        out = subprocess.run(
            [KURA, 'aio', 'start', '--dir', self.dir, '--port',
             str(self.port), '--storage-port', str(self.storage),
             '--nodes', '4'], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        c.request('GET', '/auth/v1.0', headers={
            'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'})
        r = c.getresponse()
        r.read()
        assert r.status == 200
        self.token = r.getheader('X-Auth-Token')
        c.close()

    def conn(self):
        return http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        c = conn or self.conn()
        h = {'X-Auth-Token': self.token}
        h.update(headers or {})
        c.request(method, '/v1/AUTH_test' + path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if own:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def object_server_pids(self):
        pids = {}
        for f in glob.glob(os.path.join(self.dir, 'run',
                                        'object-server*.pid')):
            with open(f) as fh:
                pids[os.path.basename(f)] = int(fh.read().split()[0])
        return pids

    def stop(self):
        subprocess.run([KURA, 'aio', 'stop', '--dir', self.dir],
                       capture_output=True, timeout=120)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp('durable'))
    yield c
    c.stop()


def test_acknowledged_puts_survive_a_killed_object_server(cluster):
    """200 concurrent PUTs; one object server is killed (-9) a third of the
    way in. Every PUT answered 2xx must read back whole afterwards."""
    assert cluster.request('PUT', '/durable')[0] in (201, 202)
    pids = cluster.object_server_pids()
    assert len(pids) == 4, pids
    victim = sorted(pids.items())[1][1]
    acked, lock, started = {}, threading.Lock(), [0]

    def worker(ids):
        c = cluster.conn()
        for i in ids:
            body = hashlib.sha256(b'%d' % i).digest() * (64 + i)
            with lock:
                started[0] += 1
                if started[0] == 70:
                    os.kill(victim, signal.SIGKILL)
            try:
                st, h, _ = cluster.request('PUT', '/durable/o%03d' % i, body,
                                           conn=c)
            except (OSError, http.client.HTTPException):
                c.close()
                c = cluster.conn()
                continue
            if 200 <= st < 300:
                assert h['etag'].strip('"') == hashlib.md5(body).hexdigest()
                with lock:
                    acked[i] = body
        c.close()

    threads = [threading.Thread(target=worker, args=(range(k, 200, 16),))
               for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    # a quorum of three replicas on four nodes survives one dead node
    assert len(acked) >= 190, len(acked)
    c = cluster.conn()
    for i, body in sorted(acked.items()):
        st, h, data = cluster.request('GET', '/durable/o%03d' % i, conn=c)
        assert st == 200, (i, st)
        assert data == body, i
        assert h['etag'].strip('"') == hashlib.md5(body).hexdigest()
    c.close()


def test_client_gone_mid_upload_leaves_nothing(cluster):
    """Half a body, then the client hangs up: no object, no temp file.
    (The node killed above may have left its own; the replicator removes
    those, diskfile_cleanup_tmp: they are not this upload's.)"""
    def tmp_files():
        return {f for f in glob.glob(os.path.join(cluster.dir, '**', 'tmp',
                                                  '*'), recursive=True)
                if os.path.isfile(f)}

    assert cluster.request('PUT', '/cut')[0] in (201, 202)
    before = tmp_files()
    s = socket.create_connection(('127.0.0.1', cluster.port))
    s.sendall(('PUT /v1/AUTH_test/cut/half HTTP/1.1\r\n'
               'Host: x\r\nX-Auth-Token: %s\r\n'
               'Content-Length: 4194304\r\n\r\n' % cluster.token).encode())
    s.sendall(b'x' * (1 << 20))
    time.sleep(0.5)
    s.close()
    deadline = time.time() + 30
    while True:
        tmp = sorted(tmp_files() - before)
        if not tmp or time.time() > deadline:
            break
        time.sleep(0.2)
    assert tmp == []
    assert cluster.request('GET', '/cut/half')[0] == 404
    datas = glob.glob(os.path.join(cluster.dir, '**', '*.data'),
                      recursive=True)
    # only the earlier test's objects exist: nothing of 'half'
    st, _, listing = cluster.request('GET', '/cut')
    assert st == 204 and listing == b''
    assert all(os.path.getsize(f) != 4194304 for f in datas)


def first_primary_port(cluster, path):
    out = subprocess.run(
        [KURA, 'get-nodes', '-d', os.path.join(cluster.dir, 'etc'),
         os.path.join(cluster.dir, 'etc', 'object.ring.gz'), path],
        capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith('Server:Port Device'):
            return int(line.split()[2].split(':')[1])
    raise AssertionError(out)


def running(pid):
    """True while the process has not exited. A killed daemon may linger
    as a zombie (this machine's init reaps late), and kill(pid, 0) still
    finds a zombie: read its state instead."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, IndexError):
        return False


def test_get_resumes_on_next_replica_when_node_dies_mid_body(cluster):
    """The node streaming a GET is killed after the first megabyte: the
    proxy fetches the rest from another replica (Range + If-Match) and the
    client gets every byte, unbroken."""
    assert cluster.request('PUT', '/resume')[0] in (201, 202)
    # an object whose first primary still runs (the first test killed one)
    for i in range(100):
        name = 'big%d' % i
        port = first_primary_port(cluster, 'AUTH_test/resume/' + name)
        node = (port - cluster.storage) // 10 + 1
        with open(os.path.join(cluster.dir, 'run',
                               'object-server-%d.pid' % node)) as f:
            pid = int(f.read().split()[0])
        if running(pid):
            break
    body = os.urandom(24 << 20)
    assert cluster.request('PUT', '/resume/' + name, body)[0] == 201
    c = cluster.conn()
    c.request('GET', '/v1/AUTH_test/resume/' + name,
              headers={'X-Auth-Token': cluster.token})
    r = c.getresponse()
    assert r.status == 200
    got = r.read(1 << 20)
    os.kill(pid, signal.SIGKILL)
    got += r.read()
    c.close()
    assert len(got) == len(body)
    assert hashlib.md5(got).hexdigest() == hashlib.md5(body).hexdigest()
