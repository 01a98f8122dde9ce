"""Interop: kura-proxy in front of OpenStack Swift 2.30's storage servers.

Runs the Swift API acceptance tests (tests/functional/test_swift_api.py)
with KURA_TEST_TARGET=kura-on-swift: Swift's account, container and object
servers (Debian's packages) and its container-updater, on rings built by
Swift's RingBuilder, with $KURA_BUILD/proxy/kura-proxy as the only proxy
(tests/functional/cluster_kura_on_swift.py). Every one of those tests must
pass: kura-proxy drives Swift's backend API as Swift's own proxy does.

The suite runs in a child pytest, as the functional tests must never share
a process with Swift; its listing test makes 1,000 objects rather than
10,050 (KURA_TEST_LISTING_OBJECTS in the environment wins), as Swift's
object server makes them at Python's pace.
"""
import glob
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SYSTEM_PYTHON = '/usr/bin/python3'
SWIFT_SERVERS = ('/usr/bin/swift-object-server',
                 '/usr/bin/swift-container-server',
                 '/usr/bin/swift-account-server')
TIMEOUT = 1800
LISTING_OBJECTS = 1000


def test_swift_api_suite_passes(kura_build):
    for exe in SWIFT_SERVERS + (SYSTEM_PYTHON, '/usr/bin/swift'):
        if not os.path.exists(exe):
            pytest.skip('%s not installed (scripts/install-deps.sh)' % exe)
    build = os.path.abspath(kura_build)
    if not os.path.exists(os.path.join(build, 'proxy', 'kura-proxy')):
        pytest.skip('kura-proxy not built in %s' % build)
    if subprocess.run([SYSTEM_PYTHON, '-c', 'import pytest, swift'],
                      capture_output=True).returncode:
        pytest.skip('python3-swift or python3-pytest missing for %s'
                    % SYSTEM_PYTHON)
    env = dict(os.environ, KURA_BUILD=build, KURA_TEST_TARGET='kura-on-swift')
    # Swift's object server makes objects at Python's pace (about 50/s
    # here): 10,050 of them would take most of the run. Paging past the
    # 10,000-row page is the container server's (Swift's own) work, and
    # the kura target covers kura-proxy's side of it; the environment may
    # still ask for the full count.
    env.setdefault('KURA_TEST_LISTING_OBJECTS', str(LISTING_OBJECTS))
    cmd = [SYSTEM_PYTHON, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
           '-rfEx', os.path.join('tests', 'functional', 'test_swift_api.py')]
    try:
        r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                           text=True, errors='replace', timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'')
        if isinstance(out, bytes):
            out = out.decode(errors='replace')
        pytest.fail('test_swift_api.py on kura-on-swift ran over %d s:\n%s'
                    % (TIMEOUT, out[-8000:]))
    out = r.stdout + r.stderr
    assert r.returncode == 0, \
        'test_swift_api.py on kura-on-swift: exit %d\n%s' % (
            r.returncode, out[-12000:])
    # all skipped is no pass: the cluster must have run
    assert ' passed' in r.stdout and ' skipped' not in r.stdout, out[-4000:]


# -- what the suite cannot see: the expirer queue --------------------------

@pytest.fixture(scope='module')
def kura_on_swift(kura_build):
    sys.path.insert(0, os.path.join(REPO, 'tests', 'functional'))
    os.environ.setdefault('KURA_BUILD', os.path.abspath(kura_build))
    import cluster as cl
    import cluster_kura_on_swift
    if os.path.abspath(cl.BUILD) != os.path.abspath(kura_build):
        pytest.skip('cluster.py was imported with another KURA_BUILD')
    c = cluster_kura_on_swift.KuraProxyOnSwift()
    try:
        yield c
    finally:
        c.stop()


EXPIRER_CONTAINER = """\
import sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
utils.HASH_PATH_PREFIX = utils.HASH_PATH_SUFFIX = b''  # not /etc/swift's
utils.validate_hash_conf()
print(utils.get_expirer_container(int(sys.argv[2]), 86400, *sys.argv[3:]))
"""


def expirer_container(cluster, delete_at, a, c, o):
    """Swift's own get_expirer_container() (default divisor) with the
    cluster's swift.conf, in a child process as Swift must be."""
    r = subprocess.run([SYSTEM_PYTHON, '-c', EXPIRER_CONTAINER,
                        cluster.swift_conf, str(delete_at), a, c, o],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def queue_rows(cluster, container):
    """The rows of .expiring_objects/<container> on each of the container
    server's devices (one partition: cluster.py builds the container ring
    with part power 0)."""
    rows = {}
    for dev in ('d0', 'd1', 'd2', 'd3'):
        conn = http.client.HTTPConnection('127.0.0.1',
                                          cluster.ports['container'],
                                          timeout=30)
        try:
            conn.request('GET', '/%s/0/.expiring_objects/%s?format=json'
                         % (dev, container))
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status == 200:
            rows[dev] = [r['name'] for r in json.loads(body)]
    return rows


def test_delete_at_enters_swifts_expirer_queue(kura_on_swift):
    """An object written with X-Delete-At through kura-proxy is entered in
    Swift's expirer queue (.expiring_objects) by Swift's object servers:
    they do so only when the proxy sends X-Delete-At-Container/-Partition/
    -Host/-Device, as Swift's proxy does; without the queue row Swift's
    object-expirer never removes the object."""
    c = kura_on_swift
    a = c.account_path.split('/')[2]
    st, h, b = c.http('PUT', c.path('expiring'))
    assert st in (201, 202), (st, b)
    for method, delay in (('PUT', 7 * 86400), ('POST', 9 * 86400)):
        at = int(time.time()) + delay
        st, h, b = c.http(method, c.path('expiring', 'o'),
                          {'X-Delete-At': str(at)},
                          b'data' if method == 'PUT' else None)
        assert st in (201, 202), (method, st, b)
        name = expirer_container(c, at, a, 'expiring', 'o')
        want = '%010d-%s/expiring/o' % (at, a)
        # each of the 3 object servers updates one queue replica before
        # it answers; a failed update would wait as an async pending
        deadline = time.time() + 60
        while True:
            rows = queue_rows(c, name)
            if sum(want in r for r in rows.values()) >= 3 or \
                    time.time() > deadline:
                break
            time.sleep(0.5)
        assert sum(want in r for r in rows.values()) == 3, (method, rows)


def test_object_placement_agrees(kura_on_swift):
    """kura-proxy and Swift's object servers hash names alike (swift.conf's
    prefix and suffix, not /etc/swift's): each replica's hash directory,
    named by the object server, sits in the partition kura-proxy chose."""
    c = kura_on_swift
    a = c.account_path.split('/')[2]
    st, h, b = c.http('PUT', c.path('placed'))
    assert st in (201, 202), (st, b)
    st, h, b = c.http('PUT', c.path('placed', 'o'), body=b'data')
    assert st == 201, (st, b)
    want = hashlib.md5(('kura/%s/placed/o' % a + 'test').encode()).hexdigest()
    dirs = glob.glob(os.path.join(c.srv, '*', 'objects', '*', '*', want))
    assert len(dirs) == 3, glob.glob(os.path.join(c.srv, '*', 'objects',
                                                   '*', '*', '*'))
    for d in dirs:
        part = int(d.split(os.sep)[-3])
        assert part == int(want[:8], 16) >> (32 - 6), d  # part power 6
