"""A whole Swift API cluster (proxy + tempauth + storage) for the acceptance
tests of tests/functional/test_swift_api.py.

KURA_TEST_TARGET picks what answers:

- "kura" (default): `build/tools/kura aio start` (KURA_BUILD overrides
  build/), stopped with `kura aio stop`. Skipped while build/proxy/kura-proxy
  is not built.
- "swift": OpenStack Swift 2.30 itself (Debian's python3-swift with the
  swift-proxy/-object/-container/-account packages, and memcached, which
  Swift's tempauth requires): one account, container and object server over
  4 devices, rings of 3 replicas, a container-updater (account stats), a
  proxy with tempauth. Everything lives in a temp dir; the daemons read only
  the configs written there (swift.conf included: the launcher points
  Swift's SWIFT_CONF_FILE at it, not at /etc/swift).
- "kura-on-swift": the storage half of "swift" (SwiftCluster._start_storage)
  with kura-proxy in front instead of Swift's proxy and memcached
  (cluster_kura_on_swift.py).

All targets give the same tempauth users (etc/proxy-server.conf-sample's
defaults): test:tester/testing .admin, test2:tester2/testing2 .admin,
test:tester3/testing3 (no .admin), admin:admin/admin .admin .reseller_admin.

Swift is never imported here: importing swift.common.utils into the pytest
process swaps logging's locks for eventlet's (conftest.py fails a test that
does). Its daemons and ring building run as child processes.
"""
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get('KURA_BUILD',
                                       os.path.join(REPO, 'build')))
TARGET = os.environ.get('KURA_TEST_TARGET', 'kura')
# Debian's python3: the one with python3-swift and python3-swiftclient.
SYSTEM_PYTHON = '/usr/bin/python3'

# Size of the big object of test_big_object (MiB).
BIG_MB = int(os.environ.get('KURA_TEST_BIG_MB', '1024'))
# Swift's daemons' worker processes each.
WORKERS = int(os.environ.get('KURA_SWIFT_WORKERS', '2'))

USERS = {
    'test:tester': 'testing',
    'test2:tester2': 'testing2',
    'test:tester3': 'testing3',
    'admin:admin': 'admin',
}


# An account or container may carry 90 metadata items and more headers:
# more than http.client's default limit of 100 response headers.
http.client._MAXHEADERS = 1000


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def free_port_range(n):
    """A base port with base..base+n-1 all free (checked, not reserved)."""
    for _ in range(100):
        base = free_port()
        if base + n > 65535:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(('127.0.0.1', p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError('no free port range')


def wait_port(port, proc=None, timeout=30, what='server'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError('%s exited with %s' % (what, proc.returncode))
            time.sleep(0.05)
    raise RuntimeError('%s did not listen on %d' % (what, port))


def wait_for(what, cond, timeout=90, interval=0.2):
    """Polls cond() until it returns something true and returns that;
    fails naming 'what' after 'timeout' seconds (generous: a busy machine
    is slow, and a test waits, never times)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError('timed out waiting for ' + what)


def ring_nodes(etc, ring, *names):
    """(partition, [(ip, port, device)]) of the primaries of /names... in
    etc/<ring>.ring.gz, as `kura get-nodes` prints them."""
    r = subprocess.run(
        [os.path.join(BUILD, 'tools', 'kura'), 'get-nodes',
         os.path.join(etc, ring + '.ring.gz'), *names, '--swift-dir', etc],
        capture_output=True, text=True, timeout=60, check=True)
    part = re.search(r'^Partition\s+(\d+)', r.stdout, re.M).group(1)
    devs = re.findall(r'^Server:Port Device\s+(\S+):(\d+) (\S+)$',
                      r.stdout, re.M)
    assert devs, r.stdout
    return part, devs


class Cluster:
    """What a test needs from a running cluster: addresses, credentials, the
    `swift` CLI and raw HTTP."""

    def __init__(self, auth_url, user, key, tmp):
        self.auth_url = auth_url
        self.user = user
        self.key = key
        self.tmp = tmp
        u = urllib.parse.urlsplit(auth_url)
        self.host, self.port = u.hostname, u.port
        self.token, self.storage_url = self.authenticate(user, key)
        # /v1/AUTH_test
        self.account_path = urllib.parse.urlsplit(self.storage_url).path

    # -- auth --------------------------------------------------------------
    def authenticate(self, user, key):
        """(token, storage_url) from GET /auth/v1.0."""
        status, headers, body = self.http(
            'GET', '/auth/v1.0', {'X-Auth-User': user, 'X-Auth-Key': key},
            auth=False)
        assert status == 200, (status, headers, body)
        return headers['x-auth-token'], headers['x-storage-url']

    def user_session(self, user):
        """(token, account path) of one of USERS."""
        token, url = self.authenticate(user, USERS[user])
        return token, urllib.parse.urlsplit(url).path

    # -- the swift CLI -----------------------------------------------------
    def swift(self, *args, user=None, key=None, timeout=300, cwd=None,
              input=None, check=False):
        """Runs python3-swiftclient's `swift` CLI against the cluster."""
        user = user or self.user
        key = key if key is not None else USERS.get(user, self.key)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('OS_', 'ST_', 'SWIFT'))}
        cmd = ['swift', '-A', self.auth_url, '-U', user, '-K', key]
        cmd += [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, timeout=timeout,
                              cwd=cwd or self.tmp, env=env, input=input,
                              check=check)

    # -- raw HTTP ----------------------------------------------------------
    def connection(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)

    def path(self, container=None, obj=None, account_path=None):
        """The quoted request path of the account, a container or object."""
        p = account_path or self.account_path
        if container is not None:
            p += '/' + urllib.parse.quote(container, safe='')
        if obj is not None:
            p += '/' + urllib.parse.quote(obj, safe='/')
        return p

    def http(self, method, path, headers=None, body=None, auth=True,
             conn=None, timeout=60):
        """One request; (status, {lowercased header: value}, body bytes).

        auth: True adds this cluster's token, False none, a str that token.
        A path not starting with '/' is taken under the account path.
        Repeated headers are joined with ', '.
        """
        if not path.startswith('/'):
            path = self.account_path + '/' + path
        h = {}
        if auth is True:
            h['X-Auth-Token'] = self.token
        elif auth:
            h['X-Auth-Token'] = auth
        h.update(headers or {})
        own = conn is None
        if own:
            conn = self.connection(timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            if body is not None and not any(
                    k.lower() in ('content-length', 'transfer-encoding')
                    for k in h):
                conn.putheader('Content-Length', str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, lower_headers(resp), data
        finally:
            if own:
                conn.close()


def lower_headers(resp):
    out = {}
    for k, v in resp.getheaders():
        k = k.lower()
        out[k] = out[k] + ', ' + v if k in out else v
    return out


# -- kura aio -------------------------------------------------------------
class KuraCluster(Cluster):
    def __init__(self):
        kura = os.path.join(BUILD, 'tools', 'kura')
        if not os.path.exists(os.path.join(BUILD, 'proxy', 'kura-proxy')):
            pytest.skip('kura-proxy not built')
        if not os.path.exists(kura):
            pytest.skip('kura (the aio tool) not built')
        self.kura = kura
        tmp = tempfile.mkdtemp(prefix='kura-aio-')
        self.dir = os.path.join(tmp, 'aio')
        port = free_port()
        base = free_port_range(16)
        r = subprocess.run(
            [kura, 'aio', 'start', '--dir', self.dir, '--port', str(port),
             '--storage-port', str(base), '--nodes', '1'],
            capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError('kura aio start: %s\n%s%s'
                               % (r.returncode, r.stdout, r.stderr))
        fields = dict(re.findall(r'^\s*(\w+):\s+(\S+)\s*$', r.stdout, re.M))
        try:
            super().__init__(fields['auth'], fields['user'], fields['key'],
                             tmp)
        except Exception:
            self.stop()
            raise
        if 'storage' in fields:
            self.printed_storage_url = fields['storage']

    def stop(self):
        subprocess.run([self.kura, 'aio', 'stop', '--dir', self.dir],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- Swift 2.30 -----------------------------------------------------------
# Runs one Swift daemon with swift.conf read from the temp dir.
LAUNCHER = '''\
import sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
# importing utils read /etc/swift/swift.conf's hash path prefix and suffix
# already when that file exists: read ours instead
utils.HASH_PATH_PREFIX = utils.HASH_PATH_SUFFIX = b''
utils.validate_hash_conf()
# and its storage policies, read at import from /etc/swift too
from swift.common import storage_policy
storage_policy.reload_storage_policies()
kind, conf = sys.argv[2], sys.argv[3]
if kind == 'container-updater':
    from swift.common.daemon import run_daemon
    from swift.container.updater import ContainerUpdater
    run_daemon(ContainerUpdater, conf, verbose=True)
else:
    from swift.common.wsgi import run_wsgi
    sys.exit(run_wsgi(conf, kind, verbose=True))
'''

RINGS = '''\
import sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], sys.argv[2:]
for kind, port in zip(('account', 'container', 'object'), ports):
    # few partitions for accounts and containers: the container-updater
    # forks once per partition directory in each sweep
    b = RingBuilder(6 if kind == 'object' else 0, 3, 1)
    for i in range(4):
        b.add_dev({'id': i, 'region': 1, 'zone': i + 1, 'ip': '127.0.0.1',
                   'port': int(port), 'device': 'd%d' % i, 'weight': 100})
    b.rebalance(seed=1)
    b.save('%s/%s.builder' % (etc, kind))
    b.get_ring().save('%s/%s.ring.gz' % (etc, kind))
'''


# Swift's proxy as both Swift-proxy targets run it: the pipeline of
# `swift`, tempauth with USERS, memcached at 127.0.0.1:<port>.
SWIFT_PROXY_APP_CONF = '''\
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache tempauth copy proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
user_test_tester3 = testing3

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:%d

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:copy]
use = egg:swift#copy
'''


def die_with_parent():
    """In the child before exec: SIGTERM when the test process dies, so a
    killed pytest leaves no Swift daemon behind (Linux's PR_SET_PDEATHSIG)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def swift_tmp_root():
    """Where Swift's devices go: tmpfs when it has room. Swift keeps an
    object's metadata in xattrs, and ext4 holds about 4 KiB of them per
    inode: an object with Swift's maximum metadata (4096 bytes of names and
    values, test_metadata_limits) fails there with 507/503, which is why
    real clusters run on XFS. tmpfs (Linux >= 6.6 for user xattrs) has no
    such limit, and makes fsync free."""
    try:
        st = os.statvfs('/dev/shm')
        if st.f_bavail * st.f_frsize > (BIG_MB * 3 + 1024) << 20:
            with tempfile.NamedTemporaryFile(dir='/dev/shm') as f:
                os.setxattr(f.name, 'user.kura-test', b'x' * 8192)
            return '/dev/shm'
    except OSError:
        pass
    return None


class SwiftCluster(Cluster):
    """Swift 2.30 itself. The storage half (_start_storage: swift.conf,
    rings, account/container/object servers, container-updater) is shared
    with the interop targets, which put another proxy in front of it by
    overriding _start_proxy."""

    # what must be installed, or the target is skipped
    REQUIRED = ('/usr/bin/swift-proxy-server', '/usr/bin/memcached',
                '/usr/bin/swift')

    def __init__(self):
        for exe in self.REQUIRED:
            if not os.path.exists(exe):
                pytest.skip('%s not installed (scripts/install-deps.sh)'
                            % exe)
        tmp = tempfile.mkdtemp(prefix='swift-aio-', dir=swift_tmp_root())
        self.procs = []
        try:
            self._start(tmp)
            super().__init__(
                'http://127.0.0.1:%d/auth/v1.0' % self.proxy_port,
                'test:tester', 'testing', tmp)
        except Exception as e:
            logs = self.logs()
            self.stop()
            raise RuntimeError('%s did not start: %s\n%s'
                               % (type(self).__name__, e, logs))

    def _spawn(self, cmd, log):
        f = open(os.path.join(self.tmp, log), 'ab')
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL,
                             start_new_session=True,
                             preexec_fn=die_with_parent)
        f.close()
        self.procs.append(p)
        return p

    def _start(self, tmp):
        self._start_storage(tmp)
        self._start_proxy()

    def _start_storage(self, tmp):
        """swift.conf and rings in tmp/etc, Swift's account, container and
        object servers over tmp/srv/d0..d3, and the container-updater.
        Sets self.etc, self.srv, self.swift_conf, self.launcher and
        self.ports (account, container, object)."""
        self.tmp = tmp
        self.etc = etc = os.path.join(tmp, 'etc')
        self.srv = srv = os.path.join(tmp, 'srv')
        os.makedirs(etc)
        for i in range(4):
            os.makedirs(os.path.join(srv, 'd%d' % i))
        self.swift_conf = os.path.join(etc, 'swift.conf')
        with open(self.swift_conf, 'w') as f:
            f.write('[swift-hash]\nswift_hash_path_prefix = kura\n'
                    'swift_hash_path_suffix = test\n\n'
                    '[storage-policy:0]\nname = Policy-0\ndefault = yes\n\n'
                    '[swift-constraints]\n')
        self.launcher = os.path.join(tmp, 'launch.py')
        with open(self.launcher, 'w') as f:
            f.write(LAUNCHER)
        self.ports = ports = {k: free_port() for k in
                              ('account', 'container', 'object')}
        subprocess.run([SYSTEM_PYTHON, '-c', RINGS, etc, str(ports['account']),
                        str(ports['container']), str(ports['object'])],
                       check=True, capture_output=True, timeout=120)
        for kind in ('account', 'container', 'object'):
            conf = self._common_conf(ports[kind])
            conf += textwrap.dedent('''
                [pipeline:main]
                pipeline = %s-server

                [app:%s-server]
                use = egg:swift#%s
                ''') % (kind, kind, kind)
            if kind == 'container':
                # Account stats (object count, bytes) reach the account
                # server only through the container-updater.
                conf += textwrap.dedent('''
                    [container-updater]
                    interval = 1
                    concurrency = 4
                    recon_cache_path = %s
                    ''') % tmp
            with open(os.path.join(etc, '%s-server.conf' % kind), 'w') as f:
                f.write(conf)
        self.storage_procs = {}
        for kind in ('account', 'container', 'object'):
            self.storage_procs[kind] = self._spawn_swift(
                '%s-server' % kind, '%s-server.conf' % kind, '%s.log' % kind)
        self._spawn_swift('container-updater', 'container-server.conf',
                          'container-updater.log')
        for kind, p in self.storage_procs.items():
            wait_port(ports[kind], p, 60, kind + '-server')

    def _common_conf(self, port):
        return textwrap.dedent('''\
            [DEFAULT]
            bind_ip = 127.0.0.1
            bind_port = %d
            devices = %s
            mount_check = false
            swift_dir = %s
            workers = %s
            log_level = WARNING
            user = %s
            ''') % (port, self.srv, self.etc, WORKERS,
                     pwd.getpwuid(os.getuid()).pw_name)

    def _spawn_swift(self, kind, conf, log):
        """One Swift daemon through LAUNCHER (swift.conf from self.etc)."""
        return self._spawn(
            [SYSTEM_PYTHON, '-W', 'ignore', self.launcher, self.swift_conf,
             kind, os.path.join(self.etc, conf)], log)

    def _start_proxy(self):
        """Swift's proxy with tempauth, and the memcached it needs. Sets
        self.proxy_port."""
        self.proxy_port = free_port()
        memcache_port = free_port()
        proxy = self._common_conf(self.proxy_port)
        proxy += '\n' + SWIFT_PROXY_APP_CONF % memcache_port
        with open(os.path.join(self.etc, 'proxy-server.conf'), 'w') as f:
            f.write(proxy)
        mc = self._spawn(['/usr/bin/memcached', '-u', 'root', '-l',
                          '127.0.0.1', '-p', str(memcache_port), '-U',
                          '0', '-m', '64'], 'memcached.log')
        wait_port(memcache_port, mc, what='memcached')
        p = self._spawn_swift('proxy-server', 'proxy-server.conf', 'proxy.log')
        wait_port(self.proxy_port, p, 60, 'proxy-server')

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []
        if getattr(self, 'tmp', None) and not os.environ.get('KURA_KEEP_TMP'):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith('.log'):
                with open(os.path.join(self.tmp, name), errors='replace') as f:
                    out.append('== %s\n%s' % (name, f.read()[-5000:]))
        return '\n'.join(out)


# The interop targets (acceptance 2 of the storage-core issue): one
# side's proxy in front of the other side's storage servers.
MIXED_TARGETS = {
    # Swift 2.30's proxy with Kura's rings, in front of Kura's servers
    'swift-on-kura': ('cluster_swift_on_kura', 'SwiftProxyOnKura'),
    # kura-proxy in front of Swift 2.30's servers, on Swift's rings
    'kura-on-swift': ('cluster_kura_on_swift', 'KuraProxyOnSwift'),
}


def start_cluster():
    if TARGET == 'swift':
        return SwiftCluster()
    if TARGET == 'kura':
        return KuraCluster()
    if TARGET in MIXED_TARGETS:
        import importlib
        module, cls = MIXED_TARGETS[TARGET]
        return getattr(importlib.import_module(module), cls)()
    raise RuntimeError('KURA_TEST_TARGET must be one of kura, swift, %s; '
                       'not %r' % (', '.join(MIXED_TARGETS), TARGET))


@pytest.fixture(scope='module')
def cluster():
    c = start_cluster()
    try:
        yield c
    finally:
        c.stop()
