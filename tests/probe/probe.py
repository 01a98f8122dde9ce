"""probe - a multi-node `kura aio` cluster for the probe tests of issue 5.

`Cluster` starts `kura aio start --nodes N --devices M` (4 x 2 by default:
node i on 127.0.0.i, devices d1..d8, node i holding d(2i-1) and d(2i) in
zone i) in a temp dir on free ports, with every background daemon that is
built, and gives a test what it needs to break nodes and watch the cluster
heal itself:

* the proxy's endpoint and tempauth credentials, and python-swiftclient
  connections (`swift()`),
* `stop_node(i)`, `start_node(i)`, `wipe_device(i, dev)` (an empty disk in
  place of the old one), `device_path(i, dev)`,
* ring lookups (`primaries()`: `kura get-nodes --batch` on the cluster's
  rings and swift.conf, so placement is Kura's own),
* where the replicas are: `replicas_of(a, c, o)` HEADs each primary's
  server directly with its device and partition; `missing()` does it in
  bulk, in threads, on keep-alive connections, `wait_replicas()` waits
  for it; `object_dirs(a, c, o)` finds every copy on disk (handoffs and
  leftovers too),
* `wait_until(cond, timeout)` and each node's recon cache (`recon(i)`).

Nothing here sleeps for a fixed time to let something happen: tests wait
for conditions with generous deadlines (the machine may be busy).

Binaries: $KURA_BUILD (default <repo>/build): tools/kura, tools/kura-ring,
the servers, proxy/kura-proxy, replicator/kura-*.
"""
import configparser
import glob
import gzip
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import swiftclient.client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get('KURA_BUILD',
                                       os.path.join(REPO, 'build')))
KURA = os.path.join(BUILD, 'tools', 'kura')
KURA_RING = os.path.join(BUILD, 'tools', 'kura-ring')
PROXY = os.path.join(BUILD, 'proxy', 'kura-proxy')
SERVER_KINDS = ('object', 'container', 'account')
# a server's port: node base + this
PORT_OFFSET = {'object': 0, 'container': 1, 'account': 2}
USER, KEY = 'test:tester', 'testing'


def binary(name):
    """Path of a background daemon's binary (replicator/kura-<name>)."""
    return os.path.join(BUILD, 'replicator', name)


def require(*paths):
    """Skips the test unless every path is an executable."""
    for p in paths:
        if not os.access(p, os.X_OK):
            pytest.skip('not built: ' + p)


def _port_free(ip, port):
    s = socket.socket()
    try:
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(nodes):
    """A proxy port on 127.0.0.1 and a storage base port whose servers'
    ports (base + 10 * (i - 1) + 0..2 on 127.0.0.i) are all free. Checked,
    not reserved: aio refuses to start over a taken port."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        proxy = s.getsockname()[1]
    for _ in range(200):
        base = random.randrange(20000, 60000)
        ports = [('127.0.0.%d' % (i + 1), base + 10 * i + k)
                 for i in range(nodes) for k in range(3)]
        if all(p != proxy for _, p in ports) and \
                all(_port_free(ip, p) for ip, p in ports):
            return proxy, base
    raise RuntimeError('no free storage ports')


def wait_until(cond, timeout, what=None, interval=0.5):
    """Calls cond() until it returns something true; returns the seconds
    that took. After 'timeout' seconds, fails with 'what' and the last
    value (a list of what is still missing reads well there)."""
    start = time.monotonic()
    while True:
        value = cond()
        if value:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError('%s: not true after %d s (last: %s)' % (
                what or getattr(cond, '__name__', 'condition'), timeout,
                _short(value)))
        time.sleep(interval)


def _short(value, limit=600):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def read_ring_devs(path):
    """{id: device dict} of a Swift ring file ('R1NG', version 1, then a
    JSON header with the devices)."""
    with open(path, 'rb') as f:
        raw = gzip.decompress(f.read())
    if raw[:4] != b'R1NG' or struct.unpack('!H', raw[4:6])[0] != 1:
        raise ValueError('%s: not a version 1 ring' % path)
    (n,) = struct.unpack('!I', raw[6:10])
    return {d['id']: d for d in json.loads(raw[10:10 + n])['devs'] if d}


def _split(path):
    """'a/c/o' -> (a, c or None, o or None), the object keeping slashes."""
    parts = path.split('/', 2)
    return tuple(parts + [None] * (3 - len(parts)))


def _kind(path):
    return SERVER_KINDS[3 - len(path.split('/', 2))]


def backend_path(dev, part, path):
    """/<dev>/<part>/<a>[/<c>[/<o>]], quoted as the proxy sends it."""
    return '/%s/%d/%s' % (dev['device'], part,
                          urllib.parse.quote(path, safe='/'))


class _Heads:
    """HEADs to backend servers from a pool of threads, each keeping one
    keep-alive connection per server."""

    def __init__(self, threads=8):
        self.pool = ThreadPoolExecutor(threads)
        self.local = threading.local()

    def close(self):
        self.pool.shutdown()

    def _head(self, ip, port, path):
        conns = self.local.__dict__.setdefault('conns', {})
        for attempt in range(2):
            conn = conns.get((ip, port))
            if conn is None:
                conn = conns[(ip, port)] = http.client.HTTPConnection(
                    ip, port, timeout=30)
            try:
                conn.request('HEAD', path)
                resp = conn.getresponse()
                resp.read()
                return resp.status, {k.lower(): v
                                     for k, v in resp.getheaders()}
            except (OSError, http.client.HTTPException):
                conn.close()
                del conns[(ip, port)]
                # a keep-alive connection the server closed: retry once
                # on a new one; a node that is down fails twice
        return None, {}

    def run(self, requests):
        """[(ip, port, path)] -> [(status or None, headers)], in order."""
        return list(self.pool.map(lambda r: self._head(*r), requests))


class Cluster:
    """A `kura aio` cluster of nodes x devices in 'tmp'."""

    def __init__(self, tmp, nodes=4, devices=2):
        self.tmp = str(tmp)
        self.dir = os.path.join(self.tmp, 'aio')
        self.nodes = nodes
        self.devices = devices
        self.port, self.storage_port = free_ports(nodes)
        self.auth_url = 'http://127.0.0.1:%d/auth/v1.0' % self.port
        self.user, self.key = USER, KEY
        self.storage_url = self.token = None
        self._rings = {}
        self._heads = _Heads()

    # -- the daemons -------------------------------------------------------
    def aio(self, *args, check=True):
        p = subprocess.run([KURA, 'aio'] + list(args) + ['--dir', self.dir],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=180)
        if check and p.returncode != 0:
            raise AssertionError('kura aio %s: exit %d\n%s%s' % (
                ' '.join(args), p.returncode, p.stdout, p.stderr))
        return p

    def start(self):
        self.aio('start', '--port', str(self.port), '--storage-port',
                 str(self.storage_port), '--nodes', str(self.nodes),
                 '--devices', str(self.devices))
        self.storage_url, self.token = swiftclient.client.get_auth(
            self.auth_url, self.user, self.key)

    def stop(self):
        self.aio('stop', check=False)
        self._heads.close()

    def stop_node(self, i):
        """Stops node i's servers and background daemons."""
        self.aio('stop', '--node', str(i))

    def start_node(self, i):
        """Starts what of node i does not run; returns once its servers
        listen."""
        self.aio('start', '--node', str(i))

    def status(self):
        """{daemon name: 'running' | 'stopped'}."""
        out = self.aio('status', check=False).stdout
        return {line.split()[0]: line.split()[2]
                for line in out.splitlines()}

    def running(self, name):
        return self.status().get(name) == 'running'

    # -- nodes and devices -------------------------------------------------
    def node_ip(self, i):
        return '127.0.0.%d' % i

    def server(self, kind, i):
        """(ip, port) of node i's server of 'kind' ('object', ...)."""
        return (self.node_ip(i),
                self.storage_port + 10 * (i - 1) + PORT_OFFSET[kind])

    def node_of(self, dev):
        """The node whose servers serve a ring device."""
        return (dev['port'] - self.storage_port) // 10 + 1

    def node_devices(self, i):
        return sorted(os.listdir(os.path.join(self.dir, 'nodes', str(i))),
                      key=lambda d: int(d[1:]))

    def device_path(self, i, dev):
        return os.path.join(self.dir, 'nodes', str(i), dev)

    def wipe_device(self, i, dev):
        """Replaces node i's device 'dev' by an empty one, as a disk swap
        does (the ring entry stays). The node must be stopped: its servers
        hold the device's databases open."""
        for kind in SERVER_KINDS:
            name = '%s-server-%d' % (kind, i)
            assert not self.running(name), name + ' runs: stop_node() first'
        path = self.device_path(i, dev)
        shutil.rmtree(path)
        os.mkdir(path)

    def recon(self, i, server='object'):
        """Node i's recon cache for 'server' ({} until a daemon wrote)."""
        path = os.path.join(self.dir, 'recon', str(i), server + '.recon')
        try:
            with open(path) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {}

    # -- rings -------------------------------------------------------------
    def ring_path(self, kind):
        return os.path.join(self.dir, 'etc', kind + '.ring.gz')

    def ring_devs(self, kind):
        """{id: device} of a ring, read again when the file changed."""
        path = self.ring_path(kind)
        mtime = os.stat(path).st_mtime_ns
        cached = self._rings.get(kind)
        if not cached or cached[0] != mtime:
            cached = self._rings[kind] = (mtime, read_ring_devs(path))
        return cached[1]

    def primaries(self, paths):
        """{path: (part, [primary devices])} for 'a', 'a/c' or 'a/c/o'
        paths (all of one kind), from `kura get-nodes --batch`."""
        if not paths:
            return {}
        kind = _kind(paths[0])
        devs = self.ring_devs(kind)
        p = subprocess.run(
            [KURA, 'get-nodes', '-c', os.path.join(self.dir, 'etc',
                                                   'swift.conf'),
             '--batch', self.ring_path(kind), '--handoffs', '0'],
            input=''.join(p + '\n' for p in paths), capture_output=True,
            text=True, timeout=300, check=True)
        out = {}
        for line in p.stdout.splitlines():
            r = json.loads(line)
            out[r['path']] = (r['part'], [devs[i] for i in r['primaries']])
        return out

    # -- where the replicas are --------------------------------------------
    def name_hash(self, account, container=None, obj=None):
        """Swift's hash_path(): the 32 hex digits naming the object's (or
        DB's) directory, from the cluster's swift.conf secrets."""
        conf = configparser.ConfigParser()
        conf.read(os.path.join(self.dir, 'etc', 'swift.conf'))
        prefix = conf.get('swift-hash', 'swift_hash_path_prefix')
        suffix = conf.get('swift-hash', 'swift_hash_path_suffix')
        path = '/' + '/'.join(x for x in (account, container, obj) if x)
        return hashlib.md5((prefix + path + suffix).encode()).hexdigest()

    def object_dirs(self, account, container, obj):
        """{(node, device): sorted file names} of every hash directory of
        the object on any device of any node, whatever its partition:
        primaries, handoffs and leftovers alike."""
        h = self.name_hash(account, container, obj)
        out = {}
        for d in glob.glob(os.path.join(self.dir, 'nodes', '*', '*',
                                        'objects', '*', h[-3:], h)):
            rel = os.path.relpath(d, os.path.join(self.dir, 'nodes'))
            node, dev = rel.split(os.sep)[:2]
            out[(int(node), dev)] = sorted(os.listdir(d))
        return out

    def replicas_of(self, account, container=None, obj=None):
        """{device name: (status or None if unreachable, headers)} of a
        direct HEAD to each primary of the account, container or object."""
        path = '/'.join(x for x in (account, container, obj) if x)
        return self.replica_status([path])[path]

    def replica_status(self, paths):
        """{path: {device name: (status, headers)}} for many paths of one
        kind: direct HEADs to every primary."""
        placed = self.primaries(paths)
        reqs, keys = [], []
        for path, (part, devs) in placed.items():
            for dev in devs:
                reqs.append((dev['ip'], dev['port'],
                             backend_path(dev, part, path)))
                keys.append((path, dev['device']))
        out = {path: {} for path in paths}
        for (path, name), answer in zip(keys, self._heads.run(reqs)):
            out[path][name] = answer
        return out

    def missing(self, paths, check=None):
        """[(path, device name, why)] for each primary replica of 'paths'
        (one kind) that is not in place: a HEAD that is not 2xx, or one
        whose headers check(path, headers) finds wrong (it returns why, or
        None)."""
        bad = []
        for path, replicas in self.replica_status(paths).items():
            for dev, (status, headers) in sorted(replicas.items()):
                if status is None:
                    why = 'unreachable'
                elif not 200 <= status < 300:
                    why = status
                else:
                    why = check and check(path, headers)
                if why:
                    bad.append((path, dev, why))
        return bad

    def wait_replicas(self, paths, timeout, check=None, what='replicas'):
        """Waits until every primary replica of 'paths' is in place (see
        missing()); returns the seconds it took. Paths found complete are
        not asked again (a primary replica does not go away by itself)."""
        left = list(paths)
        last = []  # what was missing at the last look, for the message

        def cond():
            last[:] = self.missing(left, check) if left else []
            left[:] = sorted({b[0] for b in last})
            return not last

        try:
            return wait_until(cond, timeout, what)
        except AssertionError:
            raise AssertionError('%s: %d not in place after %d s, e.g. %s' % (
                what, len(last), timeout, _short(last[:10])))

    # -- the Swift API -----------------------------------------------------
    def swift(self):
        """A python-swiftclient Connection (one per thread: not shared)."""
        return swiftclient.client.Connection(
            preauthurl=self.storage_url, preauthtoken=self.token,
            authurl=self.auth_url, user=self.user, key=self.key,
            retries=2, timeout=60)

    @property
    def account(self):
        """'AUTH_test', the account of the credentials."""
        return urllib.parse.urlsplit(self.storage_url).path.split('/')[2]
