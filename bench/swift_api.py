#!/usr/bin/python3
"""The Swift API, cluster: Kura (`kura aio`) and OpenStack Swift 2.30 side by
side on this machine, one after the other, driven by the same load
generator (build/bench/kura-httpload) through the proxy with a tempauth
token.

    /usr/bin/python3 bench/swift_api.py                 # both, ~15-60 min
    /usr/bin/python3 bench/swift_api.py --quick         # smoke run, ~3 min
    /usr/bin/python3 bench/swift_api.py --only swift --save /tmp/swift.json
    /usr/bin/python3 bench/swift_api.py --only kura --compare /tmp/swift.json
    /usr/bin/python3 bench/swift_api.py --figures put4k,get4k,head4k

Both clusters: 3 replicas over 4 devices (d1..d4, directories in one temp
dir on the root disk), every server on 127.0.0.1, tempauth user test:tester,
account autocreate. Kura: `build/tools/kura aio start --dir D --port P
--storage-port S` (its proxy, object, container and account servers).
Swift: Debian's 2.30 proxy, object, container and account servers, each at
its default worker count (`workers = auto`: one per core, 2 here, plus the
parent), default logging, part power 10, devices in zones 1-4, memcached
for tempauth's tokens; no replicators, auditors or updaters on either side.

Figures (--figures, comma-separated; default all):
  rss_rest  sum of VmRSS over every daemon of the cluster, idle after start
  put4k     4 KiB PUTs of distinct objects, concurrency 16 (ops/s, p50, p99)
  get4k     4 KiB GETs of those objects, concurrency 64
  head4k    HEADs of those objects, concurrency 64
  s3put4k   put4k through the S3 API (SigV4, UNSIGNED-PAYLOAD; bucket s3c4k)
  s3get4k   get4k through the S3 API, of the objects s3put4k made
  put64m    64 MiB PUTs, one at a time (MB/s)
  get64m    64 MiB GETs, one at a time (MB/s)
  listing   a 10,000-row JSON page of a 1,000,000-object container (ms)
  rss_1g    peak RSS sum during 16 concurrent 1 GiB PUTs

The S3 figures sign every request (kura-httpload -S, AWS Signature V4 with
access key test:tester, secret testing, region us-east-1, path style) and
also print their ratio to the same cluster's Swift-API figure when that ran
in this invocation (`s3put4k_vs_put4k`, `s3get4k_vs_get4k`: S3 ops/s over
Swift-API ops/s). Swift's proxy has Swift 2.30's s3api middleware in its
pipeline before tempauth, as `kura aio`'s has Kura's.

The listing's container is created through the proxy, then its rows are
written straight into each of its 3 replicas through the container
server's backend API, as the cluster itself would write them: with the DB
replicator's verb, REPLICATE /dev/part/hash ["merge_items", <10,000 rows>,
null], where the server takes it (Swift), else with one row PUT per object,
PUT /dev/part/AUTH_test/cont/obj with X-Timestamp, X-Size, X-Content-Type
and X-Etag (an object server's container update), from kura-httpload over
keep-alive connections. Through the proxy, 1M rows would mean 3M object
files first; Swift's container server takes row PUTs at only ~600/s here.
The fill is not a figure; the listing is timed once every replica has
answered it (Swift merges its pending rows on the first GET).

Prints `RESULT bench=swift_api system=<kura|swift> figure=<f> value=<v>`
per figure (with each load figure its CPU cost, `<f>_cpu_s_per_10k` for
small requests or `<f>_cpu_s_per_GB` for large ones: CPU seconds of the
cluster's processes and of kura-httpload, a figure that holds up on a busy
machine where the rates do not), `RESULT bench=swift_api figure=<f> kura=<v> swift=<v>
ratio=<kura/swift>` when both ran (or one came from --compare), then a
table with the issue's targets. Swift is never imported here: its daemons
and ring builder run as child processes.
"""
import argparse
import hashlib
import http.client
import json
import os
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PYTHON = '/usr/bin/python3'
ACCOUNT = 'AUTH_test'
USER, KEY = 'test:tester', 'testing'
# S3: tempauth's user as access key, its key as secret; both proxies serve
# us-east-1, path style
S3_CREDENTIALS = (USER, KEY, 'us-east-1')
S3_BUCKET = 's3c4k'
MiB = 1 << 20
GiB = 1 << 30

# In this order: rss_1g before listing, so the container server holds no
# 1M-row DB while the uploads are measured.
FIGURES = ['rss_rest', 'put4k', 'get4k', 'head4k', 's3put4k', 's3get4k',
           'put64m', 'get64m', 'rss_1g', 'listing']

# Counts and durations: full run, --quick.
PARAMS = {
    'full': dict(put4k_s=30, get4k_s=20, n64m=8, list_rows=1000000,
                 list_runs=20, big_n=16, big_size=GiB, fill_conc=8),
    'quick': dict(put4k_s=5, get4k_s=3, n64m=2, list_rows=20000,
                  list_runs=5, big_n=4, big_size=64 * MiB, fill_conc=8),
}

# (figure key, label, unit, better: 'high'|'low', target text, target check
# on (kura, swift) -> bool or None)
REPORT = [
    ('put4k_ops_per_s', '4 KiB PUT c=16', 'ops/s', 'high',
     '>= 10x Swift, ~500/s', lambda k, s: k >= 10 * s and k >= 450),
    ('put4k_p50_ms', '4 KiB PUT c=16 p50', 'ms', 'low', '', None),
    ('put4k_p99_ms', '4 KiB PUT c=16 p99', 'ms', 'low', '<= 50 ms',
     lambda k, s: k <= 50),
    ('get4k_ops_per_s', '4 KiB GET c=64', 'ops/s', 'high',
     '>= 50x Swift, >= 10,000/s', lambda k, s: k >= 50 * s and k >= 10000),
    ('get4k_p99_ms', '4 KiB GET c=64 p99', 'ms', 'low', '', None),
    ('head4k_ops_per_s', 'HEAD c=64', 'ops/s', 'high',
     '>= 50x Swift, >= 10,000/s', lambda k, s: k >= 50 * s and k >= 10000),
    ('head4k_p99_ms', 'HEAD c=64 p99', 'ms', 'low', '', None),
    ('s3put4k_ops_per_s', 'S3 4 KiB PUT c=16', 'ops/s', 'high',
     '>= 10x Swift s3api', lambda k, s: k >= 10 * s),
    ('s3put4k_p99_ms', 'S3 4 KiB PUT c=16 p99', 'ms', 'low', '', None),
    ('s3put4k_vs_put4k', 'S3 / Swift API, 4 KiB PUT', 'x', None,
     'Kura >= 0.90', lambda k, s: k >= 0.9),
    ('s3get4k_ops_per_s', 'S3 4 KiB GET c=64', 'ops/s', 'high',
     '>= 10x Swift s3api', lambda k, s: k >= 10 * s),
    ('s3get4k_p99_ms', 'S3 4 KiB GET c=64 p99', 'ms', 'low', '', None),
    ('s3get4k_vs_get4k', 'S3 / Swift API, 4 KiB GET', 'x', None,
     'Kura >= 0.90', lambda k, s: k >= 0.9),
    ('put64m_MB_per_s', '64 MiB PUT', 'MB/s', 'high', '>= 300 MB/s',
     lambda k, s: k >= 300),
    ('get64m_MB_per_s', '64 MiB GET', 'MB/s', 'high', '>= 600 MB/s',
     lambda k, s: k >= 600),
    ('put4k_cpu_s_per_10k', '4 KiB PUT CPU / 10k', 's', 'low', '', None),
    ('get4k_cpu_s_per_10k', '4 KiB GET CPU / 10k', 's', 'low', '', None),
    ('head4k_cpu_s_per_10k', 'HEAD CPU / 10k', 's', 'low', '', None),
    ('s3put4k_cpu_s_per_10k', 'S3 4 KiB PUT CPU / 10k', 's', 'low', '', None),
    ('s3get4k_cpu_s_per_10k', 'S3 4 KiB GET CPU / 10k', 's', 'low', '', None),
    ('put64m_cpu_s_per_GB', '64 MiB PUT CPU / GB', 's', 'low', '', None),
    ('get64m_cpu_s_per_GB', '64 MiB GET CPU / GB', 's', 'low', '', None),
    ('rss_rest_MiB', 'RSS at rest', 'MiB', 'low', '', None),
    ('rss_1g_peak_MiB', 'RSS peak, {big} PUTs', 'MiB', 'low',
     '<= 64 MiB, flat', lambda k, s: k <= 64),
    ('rss_1g_growth_MiB', 'RSS growth, {big} PUTs', 'MiB', 'low', '', None),
    ('rss_1g_MB_per_s', '{big} PUTs, total', 'MB/s', 'high', '', None),
    ('listing_first_ms', '10k-row page of {rows}, first', 'ms', 'low',
     '<= 20 ms', lambda k, s: k <= 20),
    ('listing_middle_ms', '10k-row page of {rows}, marker', 'ms', 'low',
     '<= 20 ms', lambda k, s: k <= 20),
    ('listing_fill_rows_per_s', 'listing fill (backend)', 'rows/s', 'high',
     '', None),
]


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def free_port_range(n):
    """A base port with base..base+n-1 all free (checked, not reserved),
    below the kernel's ephemeral range: after Swift's run thousands of its
    client connections sit in TIME-WAIT on ephemeral ports for a minute,
    and they block a bind even with SO_REUSEADDR, leaving no 16 ports in a
    row free there."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rnd = random.Random()
    for i in range(200):
        base = (rnd.randrange(10000, low - n) if low - n > 10000 and i < 150
                else free_port())
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


def wait_port(port, proc=None, timeout=60, what='server'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError('%s exited with %s'
                                   % (what, proc.returncode))
            time.sleep(0.05)
    raise RuntimeError('%s did not listen on %d' % (what, port))


# -- memory ----------------------------------------------------------------
CLK_TCK = os.sysconf('SC_CLK_TCK')


def cpu_s(pid):
    """User + system CPU seconds of a process so far (0 once gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def vm_rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_mentioning(text):
    """Processes whose command line contains 'text' (a cluster's dir)."""
    out = []
    me = os.getpid()
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        if text.encode() in cmd:
            out.append(int(d))
    return out


class RssSampler:
    """Samples the cluster's RSS sum every 'interval' s on a thread."""

    def __init__(self, cluster, interval=0.1):
        self.cluster = cluster
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        pids, t_pids = self.cluster.pids(), time.time()
        while not self._stop.is_set():
            if time.time() - t_pids > 1:
                pids, t_pids = self.cluster.pids(), time.time()
            self.samples.append((time.time(),
                                 sum(vm_rss_kib(p) for p in pids)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def rss_mib(cluster):
    return sum(vm_rss_kib(p) for p in cluster.pids()) / 1024.0


def daemon_name(pid):
    """'proxy-server' and the like, from the config path or binary."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            args = f.read().decode(errors='replace').split('\0')
    except OSError:
        return '?'
    for a in reversed(args):
        m = re.search(r'([\w-]+)\.conf$', a)
        if m:
            return m.group(1)
    return os.path.basename(args[0])


def rss_breakdown(cluster):
    """'name MiB (n processes), ...', largest first."""
    by = {}
    for p in cluster.pids():
        n, kib = by.get(daemon_name(p), (0, 0))
        by[daemon_name(p)] = (n + 1, kib + vm_rss_kib(p))
    return ', '.join('%s %.1f%s' % (k, kib / 1024.0,
                                    ' (%d)' % n if n > 1 else '')
                     for k, (n, kib) in sorted(by.items(),
                                               key=lambda x: -x[1][1]))


# -- HTTP ----------------------------------------------------------------
def request(url, method='GET', headers=None, body=None, timeout=60):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ('?' + u.query if u.query else '')
        conn.request(method, path, body, headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class Httpload:
    def __init__(self, path):
        self.path = path

    def run(self, url, method='GET', conc=16, duration=None, count=None,
            body=None, rng=None, start=None, headers=(), label='-',
            timeout=600, s3=None):
        cmd = [self.path, '-m', method, '-c', str(conc), '-l', label,
               '-T', str(timeout), '-v']
        if duration:
            cmd += ['-d', str(duration)]
        if count:
            cmd += ['-n', str(count)]
        if body:
            cmd += ['-b', str(body)]
        if rng:
            cmd += ['-r', str(rng)]
        if start:
            cmd += ['-s', str(start)]
        for h in headers:
            cmd += ['-H', h]
        if s3:  # (access, secret, region): SigV4
            cmd += ['-S', '%s:%s' % s3[:2], '-R', s3[2]]
        cmd.append(url)
        # the children's CPU: kura-httpload's, as one runs at a time when
        # it matters (the fill runs several, and ignores the figure)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run(cmd, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise RuntimeError('kura-httpload failed (%d): %s'
                               % (r.returncode, r.stderr[-2000:]))
        res = self.parse(r.stdout, r.stderr)
        res['cpu_s'] = (after.ru_utime + after.ru_stime -
                        before.ru_utime - before.ru_stime)
        return res

    def start(self, url, **kw):
        """Runs in the background; .result() waits."""
        holder = {}

        def go():
            try:
                holder['res'] = self.run(url, **kw)
            except Exception as e:  # reported by result()
                holder['err'] = e
        t = threading.Thread(target=go, daemon=True)
        t.start()

        class Job:
            def done(self):
                return not t.is_alive()

            def result(self):
                t.join()
                if 'err' in holder:
                    raise holder['err']
                return holder['res']
        return Job()

    @staticmethod
    def parse(out, err):
        for line in out.splitlines():
            if line.startswith('RESULT '):
                res = {}
                for kv in line.split()[1:]:
                    k, _, v = kv.partition('=')
                    try:
                        res[k] = float(v) if '.' in v else int(v)
                    except ValueError:
                        res[k] = v
                if res.get('errors'):
                    log('  note: %d errors (%s); stderr: %s'
                        % (res['errors'], ' '.join(
                            '%s=%s' % (k, v) for k, v in res.items()
                            if k.startswith(('status_', 'conn_', 'time'))),
                           err.strip()[-500:]))
                return res
        raise RuntimeError('no RESULT line from kura-httpload: %s %s'
                           % (out, err))


# -- the clusters ----------------------------------------------------------
class Cluster:
    name = '?'

    def authenticate(self):
        status, h, body = request(self.auth_url, headers={
            'X-Auth-User': USER, 'X-Auth-Key': KEY})
        if status != 200:
            raise RuntimeError('auth: %d %r' % (status, body[:200]))
        self.token = h['x-auth-token']
        self.storage_url = h['x-storage-url']

    def auth_header(self):
        return 'X-Auth-Token: ' + self.token

    def s3_endpoint(self):
        """The proxy's root: S3 path style, http://host:port."""
        u = urllib.parse.urlsplit(self.auth_url)
        return '%s://%s' % (u.scheme, u.netloc)

    def put_container(self, name):
        status, _, body = request(self.storage_url + '/' + name, 'PUT',
                                  {'X-Auth-Token': self.token})
        if status not in (201, 202):
            raise RuntimeError('container PUT %s: %d %r'
                               % (name, status, body[:200]))

    def container_nodes(self, container):
        """(partition, DB hash, [(ip, port, device)] of the primaries)."""
        raise NotImplementedError

    def tmp_dir(self):
        return self.tmp


def parse_get_nodes(text):
    """swift-get-nodes' shape (kura get-nodes prints the same)."""
    part = int(re.search(r'^Partition\s+(\d+)', text, re.M).group(1))
    hsh = re.search(r'^Hash\s+([0-9a-f]{32})', text, re.M).group(1)
    nodes = []
    for m in re.finditer(r'^Server:Port Device\s+(\S+):(\d+) (\S+)(.*)$',
                         text, re.M):
        if 'Handoff' not in m.group(4):
            nodes.append((m.group(1).strip('[]'), int(m.group(2)),
                          m.group(3)))
    return part, hsh, nodes


class KuraCluster(Cluster):
    name = 'kura'

    def __init__(self, build):
        self.kura = os.path.join(build, 'tools', 'kura')
        self.proxy = os.path.join(build, 'proxy', 'kura-proxy')

    def unavailable(self):
        """Why this cluster cannot run, or None."""
        if not os.path.exists(self.proxy):
            return '%s is not built yet' % self.proxy
        if not os.path.exists(self.kura):
            return '%s is not built' % self.kura
        r = subprocess.run([self.kura, 'aio', '--help'],
                           capture_output=True, text=True)
        if 'start' not in r.stdout + r.stderr:
            return "'kura aio' is not there yet"
        return None

    def start(self, base_tmp):
        self.tmp = tempfile.mkdtemp(prefix='kura-swift-api-', dir=base_tmp)
        self.dir = os.path.join(self.tmp, 'aio')
        cmd = [self.kura, 'aio', 'start', '--dir', self.dir,
               '--port', str(free_port()),
               '--storage-port', str(free_port_range(16))]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            r = self.without_background(cmd)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError('kura aio start: %d\n%s%s'
                               % (r.returncode, r.stdout, r.stderr))
        fields = dict(re.findall(r'^\s*(\w+):\s+(\S+)\s*$', r.stdout, re.M))
        self.auth_url = fields['auth']
        self.authenticate()

    # What `kura aio` runs besides the servers, which Swift's side of this
    # benchmark does not run either: the DB servers' threads (they run only
    # when their config section is there) and the background daemons (they
    # need theirs, and are stopped instead).
    BACKGROUND_SECTIONS = ('container-replicator', 'container-auditor',
                           'container-lifecycle', 'account-replicator',
                           'account-auditor')
    BACKGROUND_DAEMONS = ('object-replicator', 'object-auditor',
                          'object-updater', 'object-expirer')

    def without_background(self, cmd):
        """Restarts the aio with the background sections taken out of its
        configs (kept across starts: they are the user's once written) and
        its background daemons stopped. The subprocess result of the
        second start."""
        subprocess.run([self.kura, 'aio', 'stop', '--dir', self.dir],
                       capture_output=True, timeout=120)
        etc = os.path.join(self.dir, 'etc')
        for name in os.listdir(etc):
            if not name.endswith('.conf'):
                continue
            path = os.path.join(etc, name)
            with open(path) as f:
                text = f.read()
            kept, skip = [], False
            for line in text.splitlines(keepends=True):
                m = re.match(r'\s*\[([^]]+)\]', line)
                if m:
                    skip = m.group(1).strip() in self.BACKGROUND_SECTIONS
                if not skip:
                    kept.append(line)
            with open(path, 'w') as f:
                f.write(''.join(kept))
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        for name in self.BACKGROUND_DAEMONS:
            try:
                with open(os.path.join(self.dir, 'run', name + '.pid')) as f:
                    os.kill(int(f.read().split()[0]), signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                pass
        return r

    def pids(self):
        return pids_mentioning(self.dir)

    def container_nodes(self, container):
        etc = os.path.join(self.dir, 'etc')
        r = subprocess.run([self.kura, 'get-nodes', '-d', etc,
                            os.path.join(etc, 'container.ring.gz'),
                            ACCOUNT, container],
                           capture_output=True, text=True, check=True)
        return parse_get_nodes(r.stdout)

    def stop(self, keep=False):
        if getattr(self, 'dir', None):
            subprocess.run([self.kura, 'aio', 'stop', '--dir', self.dir],
                           capture_output=True, timeout=120)
        if getattr(self, 'tmp', None) and not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


# Runs one Swift daemon with swift.conf read from the temp dir (Swift reads
# /etc/swift/swift.conf unless utils.SWIFT_CONF_FILE says otherwise).
SWIFT_LAUNCHER = '''\
import sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
from swift.common.wsgi import run_wsgi
sys.exit(run_wsgi(sys.argv[3], sys.argv[2], verbose=True))
'''

# Prints a container's partition and primaries as JSON.
SWIFT_NODES = '''\
import json, sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
from swift.common.ring import Ring
part, nodes = Ring(sys.argv[2]).get_nodes(sys.argv[3], sys.argv[4])
print(json.dumps([part, utils.hash_path(sys.argv[3], sys.argv[4]),
                  [(n['ip'], n['port'], n['device']) for n in nodes]]))
'''

SWIFT_PIPELINE = ('catch_errors gatekeeper healthcheck proxy-logging cache '
                  's3api tempauth copy proxy-logging proxy-server')


class SwiftCluster(Cluster):
    name = 'swift'
    PART_POWER = 10

    def __init__(self):
        self.procs = []
        self.memcached = None

    def unavailable(self):
        for exe in ('/usr/bin/swift-proxy-server', '/usr/bin/memcached',
                    '/usr/bin/swift-object-server',
                    '/usr/bin/swift-container-server',
                    '/usr/bin/swift-account-server',
                    '/usr/bin/swift-ring-builder'):
            if not os.path.exists(exe):
                return ('%s is missing (apt-get install swift swift-proxy '
                        'swift-object swift-container swift-account '
                        'memcached)' % exe)
        return None

    def _spawn(self, cmd, log_name):
        with open(os.path.join(self.tmp, log_name), 'ab') as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def _rings(self, etc, ports):
        for kind in ('account', 'container', 'object'):
            b = os.path.join(etc, kind + '.builder')
            subprocess.run(['/usr/bin/swift-ring-builder', b, 'create',
                            str(self.PART_POWER), '3', '1'],
                           check=True, capture_output=True)
            for i in range(1, 5):
                subprocess.run(['/usr/bin/swift-ring-builder', b, 'add',
                                'r1z%d-127.0.0.1:%d/d%d' % (i, ports[kind], i),
                                '100'], check=True, capture_output=True)
            # exit 1 is a balance warning; the ring file is what matters
            subprocess.run(['/usr/bin/swift-ring-builder', b, 'rebalance'],
                           capture_output=True)
            if not os.path.exists(os.path.join(etc, kind + '.ring.gz')):
                raise RuntimeError('swift-ring-builder made no %s ring' % kind)

    def _configs(self, etc, srv, ports):
        me = pwd.getpwuid(os.getuid()).pw_name
        common = textwrap.dedent('''\
            [DEFAULT]
            bind_ip = 127.0.0.1
            bind_port = %d
            devices = %s
            mount_check = false
            swift_dir = %s
            workers = auto
            user = %s
            ''')
        for kind in ('account', 'container', 'object'):
            conf = common % (ports[kind], srv, etc, me)
            conf += textwrap.dedent('''
                [pipeline:main]
                pipeline = %s-server

                [app:%s-server]
                use = egg:swift#%s
                ''') % (kind, kind, kind)
            with open(os.path.join(etc, '%s-server.conf' % kind), 'w') as f:
                f.write(conf)
        proxy = common % (ports['proxy'], srv, etc, me)
        proxy += textwrap.dedent('''
            [pipeline:main]
            pipeline = %s

            [app:proxy-server]
            use = egg:swift#proxy
            account_autocreate = true

            [filter:tempauth]
            use = egg:swift#tempauth
            user_test_tester = testing .admin

            [filter:cache]
            use = egg:swift#memcache
            memcache_servers = 127.0.0.1:%d
            ''') % (SWIFT_PIPELINE, ports['memcache'])
        for f in ('catch_errors', 'gatekeeper', 'healthcheck', 'copy',
                  's3api'):
            proxy += '\n[filter:%s]\nuse = egg:swift#%s\n' % (f, f)
        proxy += '\n[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n'
        with open(os.path.join(etc, 'proxy-server.conf'), 'w') as f:
            f.write(proxy)

    def start(self, base_tmp):
        self.tmp = tempfile.mkdtemp(prefix='swift-swift-api-', dir=base_tmp)
        etc = os.path.join(self.tmp, 'etc')
        srv = os.path.join(self.tmp, 'srv')
        os.makedirs(etc)
        for i in range(1, 5):
            os.makedirs(os.path.join(srv, 'd%d' % i))
        self.swift_conf = os.path.join(etc, 'swift.conf')
        with open(self.swift_conf, 'w') as f:
            f.write('[swift-hash]\nswift_hash_path_prefix = bench\n'
                    'swift_hash_path_suffix = swiftapi\n\n'
                    '[storage-policy:0]\nname = Policy-0\ndefault = yes\n')
        launcher = os.path.join(self.tmp, 'launch.py')
        with open(launcher, 'w') as f:
            f.write(SWIFT_LAUNCHER)
        ports = {k: free_port() for k in
                 ('account', 'container', 'object', 'proxy', 'memcache')}
        self.etc = etc
        try:
            self._rings(etc, ports)
            self._configs(etc, srv, ports)
            mc = ['/usr/bin/memcached', '-l', '127.0.0.1', '-p',
                  str(ports['memcache']), '-U', '0', '-m', '64']
            if os.getuid() == 0:
                mc += ['-u', 'root']
            self.memcached = self._spawn(mc, 'memcached.log')
            wait_port(ports['memcache'], self.memcached, what='memcached')
            servers = {}
            for kind in ('account', 'container', 'object', 'proxy'):
                servers[kind] = self._spawn(
                    [SYSTEM_PYTHON, '-W', 'ignore', launcher, self.swift_conf,
                     '%s-server' % kind,
                     os.path.join(etc, '%s-server.conf' % kind)],
                    '%s.log' % kind)
            for kind, p in servers.items():
                wait_port(ports[kind], p, 60, kind + '-server')
            self.auth_url = 'http://127.0.0.1:%d/auth/v1.0' % ports['proxy']
            self.authenticate()
        except Exception:
            logs = self.logs()
            self.stop()
            raise RuntimeError('Swift did not start\n' + logs)

    def pids(self):
        out = pids_mentioning(self.tmp)
        if self.memcached and self.memcached.poll() is None:
            out.append(self.memcached.pid)
        return out

    def container_nodes(self, container):
        r = subprocess.run([SYSTEM_PYTHON, '-W', 'ignore', '-c', SWIFT_NODES,
                            self.swift_conf,
                            os.path.join(self.etc, 'container.ring.gz'),
                            ACCOUNT, container],
                           capture_output=True, text=True, check=True)
        part, hsh, nodes = json.loads(r.stdout)
        return part, hsh, [tuple(n) for n in nodes]

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith('.log'):
                with open(os.path.join(self.tmp, name),
                          errors='replace') as f:
                    out.append('== %s\n%s' % (name, f.read()[-3000:]))
        return '\n'.join(out)

    def stop(self, keep=False):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []
        if getattr(self, 'tmp', None) and not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


# -- the figures -----------------------------------------------------------
class Bench:
    def __init__(self, cluster, hl, p, figures):
        self.c = cluster
        self.hl = hl
        self.p = p
        self.figures = figures
        self.res = {}
        self.n4k = 0     # 4 KiB objects c4k/o{N} made so far
        self.n4k_s3 = 0  # 4 KiB objects s3c4k/o{N}, PUT with S3
        self.n64m = 0    # 64 MiB objects c64m/o{N}

    def emit(self, key, value, fmt='%.1f'):
        self.res[key] = value
        log('RESULT bench=swift_api system=%s figure=%s value=%s'
            % (self.c.name, key, fmt % value))

    def cluster_cpu(self):
        return sum(cpu_s(p) for p in self.c.pids())

    def measured(self, run):
        """run() -> an httpload result, with 'total_cpu_s' added: the
        cluster's CPU seconds during it plus kura-httpload's."""
        before = self.cluster_cpu()
        r = run()
        r['total_cpu_s'] = self.cluster_cpu() - before + r['cpu_s']
        return r

    def emit_cpu(self, key, r, size=None):
        """CPU per 10,000 requests, or per GB (10^9) of bodies."""
        if not r['requests']:
            return
        if size:
            self.emit(key + '_cpu_s_per_GB',
                      r['total_cpu_s'] / (r['requests'] * size / 1e9), '%.2f')
        else:
            self.emit(key + '_cpu_s_per_10k',
                      r['total_cpu_s'] * 1e4 / r['requests'], '%.2f')

    def obj_url(self, container):
        return '%s/%s/o{N}' % (self.c.storage_url, container)

    def run(self):
        c = self.c
        c.put_container('c4k')
        c.put_container('c64m')
        if any(f.startswith('s3') for f in self.figures):
            c.put_container(S3_BUCKET)  # a bucket is a container
        for fig in FIGURES:
            if fig in self.figures:
                log('-- %s: %s (load average %s)'
                    % (c.name, fig, ' '.join(
                        '%.2f' % x for x in os.getloadavg())))
                getattr(self, 'fig_' + fig)()
        return self.res

    def fig_rss_rest(self):
        time.sleep(1)
        self.emit('rss_rest_MiB', rss_mib(self.c))
        self.emit('daemons', len(self.c.pids()), '%d')
        log('  RSS MiB by daemon (processes): ' + rss_breakdown(self.c))

    def put_4k(self, duration=None, count=None, label='put4k'):
        r = self.hl.run(self.obj_url('c4k'), 'PUT', conc=16,
                        duration=duration, count=count, body=4096,
                        start=self.n4k, headers=[self.c.auth_header()],
                        label=label)
        self.n4k += r['requests']
        return r

    def need_4k(self, n=1000):
        if self.n4k < n:
            self.put_4k(count=n - self.n4k, label='prefill4k')

    def fig_put4k(self):
        r = self.measured(lambda: self.put_4k(duration=self.p['put4k_s']))
        self.emit('put4k_ops_per_s', r['ops_per_s'])
        self.emit_cpu('put4k', r)
        self.emit('put4k_p50_ms', r['p50_ms'], '%.2f')
        self.emit('put4k_p99_ms', r['p99_ms'], '%.2f')
        self.emit('put4k_errors', r['errors'], '%d')

    def read_4k(self, method, key):
        self.need_4k()
        r = self.measured(lambda: self.hl.run(
            self.obj_url('c4k'), method, conc=64, duration=self.p['get4k_s'],
            rng=min(self.n4k, 10000), headers=[self.c.auth_header()],
            label=key))
        self.emit(key + '_ops_per_s', r['ops_per_s'])
        self.emit_cpu(key, r)
        self.emit(key + '_p50_ms', r['p50_ms'], '%.2f')
        self.emit(key + '_p99_ms', r['p99_ms'], '%.2f')
        self.emit(key + '_errors', r['errors'], '%d')

    def fig_get4k(self):
        self.read_4k('GET', 'get4k')

    def fig_head4k(self):
        self.read_4k('HEAD', 'head4k')

    def s3_url(self):
        return '%s/%s/o{N}' % (self.c.s3_endpoint(), S3_BUCKET)

    def s3_ratio(self, key, swift_key):
        """S3 ops/s over the Swift API's, if that ran in this invocation."""
        sw = self.res.get(swift_key + '_ops_per_s')
        if sw:
            self.emit(key + '_vs_' + swift_key,
                      self.res[key + '_ops_per_s'] / sw, '%.3f')

    def put_4k_s3(self, duration=None, count=None, label='s3put4k'):
        r = self.hl.run(self.s3_url(), 'PUT', conc=16, duration=duration,
                        count=count, body=4096, start=self.n4k_s3,
                        s3=S3_CREDENTIALS, label=label)
        self.n4k_s3 += r['requests']
        return r

    def fig_s3put4k(self):
        r = self.measured(lambda: self.put_4k_s3(duration=self.p['put4k_s']))
        self.emit('s3put4k_ops_per_s', r['ops_per_s'])
        self.emit_cpu('s3put4k', r)
        self.emit('s3put4k_p50_ms', r['p50_ms'], '%.2f')
        self.emit('s3put4k_p99_ms', r['p99_ms'], '%.2f')
        self.emit('s3put4k_errors', r['errors'], '%d')
        self.s3_ratio('s3put4k', 'put4k')

    def fig_s3get4k(self):
        if self.n4k_s3 < 1000:
            self.put_4k_s3(count=1000 - self.n4k_s3, label='s3prefill4k')
        r = self.measured(lambda: self.hl.run(
            self.s3_url(), 'GET', conc=64, duration=self.p['get4k_s'],
            rng=min(self.n4k_s3, 10000), s3=S3_CREDENTIALS, label='s3get4k'))
        self.emit('s3get4k_ops_per_s', r['ops_per_s'])
        self.emit_cpu('s3get4k', r)
        self.emit('s3get4k_p50_ms', r['p50_ms'], '%.2f')
        self.emit('s3get4k_p99_ms', r['p99_ms'], '%.2f')
        self.emit('s3get4k_errors', r['errors'], '%d')
        self.s3_ratio('s3get4k', 'get4k')

    def put_64m(self, n, label):
        r = self.hl.run(self.obj_url('c64m'), 'PUT', conc=1, count=n,
                        body=64 * MiB, start=self.n64m,
                        headers=[self.c.auth_header()], label=label)
        self.n64m += r['requests']
        return r

    def fig_put64m(self):
        r = self.measured(lambda: self.put_64m(self.p['n64m'], 'put64m'))
        self.emit('put64m_MB_per_s', r['MB_per_s'])
        self.emit_cpu('put64m', r, 64 * MiB)
        self.emit('put64m_errors', r['errors'], '%d')

    def fig_get64m(self):
        if self.n64m == 0:
            self.put_64m(self.p['n64m'], 'prefill64m')
        r = self.measured(lambda: self.hl.run(
            self.obj_url('c64m'), 'GET', conc=1, count=self.p['n64m'],
            rng=self.n64m, headers=[self.c.auth_header()], label='get64m'))
        self.emit('get64m_MB_per_s', r['MB_per_s'])
        self.emit_cpu('get64m', r, 64 * MiB)
        self.emit('get64m_errors', r['errors'], '%d')

    def replicate_rows(self, node, part, hsh, cont, rows, ts, etag,
                       probe=False):
        """Rows into one replica with the db replicator's verb, REPLICATE
        /dev/part/hash ["merge_items", rows, null], 10,000 a request. Returns
        False if the server does not take it (probe: the first batch only)."""
        ip, port, dev = node
        conn = http.client.HTTPConnection(ip, port, timeout=600)
        batch = 10000
        try:
            for lo in range(0, 1 if probe else rows, batch):
                items = [{'name': 'o%010d' % i, 'created_at': ts,
                          'size': 4096, 'etag': etag, 'deleted': 0,
                          'content_type': 'application/octet-stream',
                          'storage_policy_index': 0}
                         for i in range(lo, min(rows, lo + batch))]
                if probe:
                    items = items[:1]
                body = json.dumps(['merge_items', items, None]).encode()
                conn.request('REPLICATE', '/%s/%d/%s' % (dev, part, hsh), body,
                             {'Content-Type': 'application/json',
                              'X-Timestamp': ts})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status // 100 != 2:
                    if probe or lo == 0:
                        return False
                    raise RuntimeError('REPLICATE: %d %r'
                                       % (resp.status, data[:200]))
            return True
        finally:
            conn.close()

    def fill_rows(self, cont, rows):
        """The listing container's rows, on all of its primaries."""
        part, hsh, nodes = self.c.container_nodes(cont)
        if len(nodes) != 3:
            raise RuntimeError('container %s: %d primaries'
                               % (cont, len(nodes)))
        ts = '%.5f' % time.time()
        etag = hashlib.md5(b'x' * 4096).hexdigest()
        where = ' '.join('%s:%d/%s' % n for n in nodes)
        if self.replicate_rows(nodes[0], part, hsh, cont, 1, ts, etag, True):
            how = 'REPLICATE merge_items'
            log('  filling %d rows into %s on %s (partition %d) by %s'
                % (rows, cont, where, part, how))
            errs = []

            def one(node):
                try:
                    self.replicate_rows(node, part, hsh, cont, rows, ts, etag)
                except Exception as e:
                    errs.append(e)
            threads = [threading.Thread(target=one, args=(n,))
                       for n in nodes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errs:
                raise errs[0]
            return how
        how = 'row PUTs'
        log('  filling %d rows into %s on %s (partition %d) by %s'
            % (rows, cont, where, part, how))
        hdrs = ['X-Timestamp: ' + ts, 'X-Size: 4096',
                'X-Content-Type: application/octet-stream',
                'X-Etag: ' + etag, 'X-Backend-Storage-Policy-Index: 0',
                'Content-Length: 0']
        jobs = [self.hl.start('http://%s:%d/%s/%d/%s/%s/o{N}'
                              % (ip, port, dev, part, ACCOUNT, cont),
                              method='PUT', conc=self.p['fill_conc'],
                              count=rows, headers=hdrs, label='fill-' + dev)
                for ip, port, dev in nodes]
        errors = sum(j.result()['errors'] for j in jobs)
        if errors:
            raise RuntimeError('%d row PUTs failed' % errors)
        return how

    def fig_listing(self):
        rows = self.p['list_rows']
        cont = 'list%d' % rows
        self.c.put_container(cont)
        t0 = time.time()
        how = self.fill_rows(cont, rows)
        fill_s = time.time() - t0
        self.emit('listing_fill_rows_per_s', 3 * rows / fill_s)
        self.emit('listing_fill_s', fill_s)
        self.res['listing_fill_how'] = how
        base = '%s/%s?format=json&limit=10000' % (self.c.storage_url, cont)
        mid = rows // 2
        middle = '%s&marker=o%010d' % (base, mid)
        # Warm-up, checked: Swift merges pending rows on the first GET; both
        # get their caches warm; the proxy picks replicas at random, so four
        # GETs of each page likely read every replica.
        for url, want in ((base, min(10000, rows)),
                          (middle, min(10000, rows - mid - 1))):
            for _ in range(4):
                status, h, body = request(url, headers={
                    'X-Auth-Token': self.c.token}, timeout=600)
                n = len(json.loads(body)) if status == 200 else -1
                if n != want:
                    raise RuntimeError('listing: %d, %d rows (want %d)'
                                       % (status, n, want))
        status, h, _ = request('%s/%s' % (self.c.storage_url, cont), 'HEAD',
                               {'X-Auth-Token': self.c.token})
        self.emit('listing_object_count',
                  int(h.get('x-container-object-count', -1)), '%d')
        for key, url in (('listing_first_ms', base),
                         ('listing_middle_ms', middle)):
            r = self.hl.run(url, 'GET', conc=1, count=self.p['list_runs'],
                            headers=[self.c.auth_header()], label=key)
            self.emit(key, r['p50_ms'], '%.2f')
            self.emit(key.replace('_ms', '_max_ms'), r['max_ms'], '%.2f')
            self.emit(key.replace('_ms', '_MB'),
                      r['MB_per_s'] * r['elapsed_s'] / r['requests'], '%.2f')

    def fig_rss_1g(self):
        n, size = self.p['big_n'], self.p['big_size']
        free = shutil.disk_usage(self.c.tmp_dir()).free
        need = 3 * n * size + 4 * GiB
        if free < need:
            n = max(1, int((free - 4 * GiB) // (3 * size)))
            log('  only %.1f GiB free: %d uploads instead of %d'
                % (free / GiB, n, self.p['big_n']))
        self.c.put_container('c1g')
        rest = rss_mib(self.c)
        log('  before, RSS MiB by daemon: ' + rss_breakdown(self.c))
        with RssSampler(self.c) as s:
            r = self.hl.run('%s/c1g/o{N}' % self.c.storage_url, 'PUT',
                            conc=n, count=n, body=size,
                            headers=[self.c.auth_header()], label='put1g',
                            timeout=3600)
        kib = [v for _, v in s.samples]
        self.emit('rss_1g_uploads', n, '%d')
        self.emit('rss_1g_object_MiB', size / MiB, '%d')
        self.emit('rss_1g_rest_MiB', rest)
        self.emit('rss_1g_peak_MiB', max(kib) / 1024.0)
        self.emit('rss_1g_growth_MiB', max(kib) / 1024.0 - rest)
        log('  after, RSS MiB by daemon: ' + rss_breakdown(self.c))
        quart = [kib[int(len(kib) * q)] / 1024.0 for q in (0.25, 0.5, 0.75)]
        log('  RSS MiB at 25/50/75%% of the uploads: %s'
            % ' '.join('%.1f' % q for q in quart))
        self.emit('rss_1g_MB_per_s', r['MB_per_s'])
        self.emit('rss_1g_errors', r['errors'], '%d')
        # the disk space back for whatever runs next
        for i in range(n):
            request('%s/c1g/o%010d' % (self.c.storage_url, i), 'DELETE',
                    {'X-Auth-Token': self.c.token})


# -- report ----------------------------------------------------------------
def report(results, compared, p):
    kura, swift = results.get('kura', {}), results.get('swift', {})
    names = {'big': '%d x %s' % (p['big_n'], '1 GiB' if p['big_size'] == GiB
                                 else '%d MiB' % (p['big_size'] // MiB)),
             'rows': '1M' if p['list_rows'] == 1000000
             else str(p['list_rows'])}
    rows = [(r[0], r[1].format(**names)) + tuple(r[2:]) for r in REPORT]
    for key, *_ in REPORT:
        if key in kura and key in swift and swift[key]:
            log('RESULT bench=swift_api figure=%s kura=%.2f swift=%.2f '
                'ratio=%.2f' % (key, kura[key], swift[key],
                                kura[key] / swift[key]))
    log('')
    if compared:
        log('(%s figures from %s: another run, not side by side)'
            % compared)
    w = max(len(r[1]) for r in rows)
    log('%-*s %12s %12s %9s  %-26s %s' % (w, 'figure', 'kura', 'swift',
                                          'better', 'target', 'met'))
    for key, label, unit, better, target, check in rows:
        k, s = kura.get(key), swift.get(key)
        if k is None and s is None:
            continue
        fmt = (lambda v: '-' if v is None else
               ('%.0f' % v if v >= 100 else '%.2f' % v) + ' ' + unit)
        factor = ''
        if k and s and better:
            f = k / s if better == 'high' else s / k
            factor = '%.1fx' % f
        met = ''
        if check and k is not None and s is not None:
            met = 'yes' if check(k, s) else 'NO'
        elif check and k is not None:
            met = '(no Swift figure)' if 'Swift' in target else (
                'yes' if check(k, 0) else 'NO')
        log('%-*s %12s %12s %9s  %-26s %s' % (w, label, fmt(k), fmt(s),
                                              factor, target, met))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', choices=('kura', 'swift'))
    ap.add_argument('--quick', action='store_true',
                    help='small counts and sizes: a smoke run')
    ap.add_argument('--figures', default=','.join(FIGURES),
                    help='comma-separated, of: ' + ' '.join(FIGURES))
    ap.add_argument('--build', default=os.environ.get(
        'KURA_BUILD', os.path.join(REPO, 'build')),
        help='the build dir (default $KURA_BUILD, else build/)')
    ap.add_argument('--httpload', default=os.environ.get('KURA_HTTPLOAD'))
    ap.add_argument('--tmp', default=None,
                    help='where the clusters live (default $TMPDIR)')
    ap.add_argument('--list-rows', type=int,
                    help='rows of the listing container')
    ap.add_argument('--save', help='write the figures as JSON here')
    ap.add_argument('--compare', help="the other system's figures from "
                    "an earlier --save")
    ap.add_argument('--keep', action='store_true',
                    help='keep the temp dirs (and their logs)')
    args = ap.parse_args()

    figures = [f.strip() for f in args.figures.split(',') if f.strip()]
    bad = [f for f in figures if f not in FIGURES]
    if bad:
        ap.error('unknown figures: %s' % ' '.join(bad))
    p = dict(PARAMS['quick' if args.quick else 'full'])
    if args.list_rows:
        p['list_rows'] = args.list_rows
    build = os.path.abspath(args.build)
    hl_path = args.httpload or os.path.join(build, 'bench', 'kura-httpload')
    if not os.path.exists(hl_path):
        sys.exit('%s missing: cmake --build build --target kura-httpload'
                 % hl_path)
    hl = Httpload(hl_path)

    log('swift_api: load average %s, %d cores, figures %s%s'
        % (' '.join('%.2f' % x for x in os.getloadavg()), os.cpu_count(),
           ','.join(figures), ' (quick)' if args.quick else ''))
    clusters = []
    for c in (SwiftCluster(), KuraCluster(build)):
        if args.only and c.name != args.only:
            continue
        why = c.unavailable()
        if why:
            log('%s: skipped: %s' % (c.name, why))
            continue
        clusters.append(c)

    results = {}
    compared = None
    if args.compare:
        with open(args.compare) as f:
            old = json.load(f)
        for name, figs in old.get('results', {}).items():
            if name not in [c.name for c in clusters]:
                results[name] = figs
                compared = (name, args.compare)
    for c in clusters:
        log('== %s' % c.name)
        c.start(args.tmp)
        try:
            results[c.name] = Bench(c, hl, p, figures).run()
        finally:
            c.stop(keep=args.keep)
            if args.keep:
                log('%s kept in %s' % (c.name, c.tmp))
    if args.save:
        with open(args.save, 'w') as f:
            json.dump({'params': p, 'quick': args.quick,
                       'time': time.strftime('%Y-%m-%d %H:%M:%S'),
                       'results': {c.name: results[c.name]
                                   for c in clusters}}, f, indent=1)
    report(results, compared, p)


if __name__ == '__main__':
    main()
