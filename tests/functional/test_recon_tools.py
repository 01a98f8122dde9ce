"""The operators' tools of issue 5 on a one-node `kura aio`: GET /recon/...
on each storage server (Swift's shapes, 404 for the rest), `kura recon`,
`kura object-info` on real object files (good, rotten, not one), and
`kura dispersion-populate` / `dispersion-report` (100 %, then one replica
removed by hand).

Run with: KURA_BUILD=build /usr/bin/python3 -m pytest -q -p no:cacheprovider
          tests/functional/test_recon_tools.py
"""
import configparser
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from cluster import KuraCluster

STORAGE = ('object-server', 'container-server', 'account-server')


@pytest.fixture(scope='module')
def aio():
    c = KuraCluster()
    try:
        c.etc = os.path.join(c.dir, 'etc')
        c.recon = ensure_recon_cache(c)
        with open(os.path.join(c.etc, 'aio.json')) as f:
            base = json.load(f)['storage_port']
        # object, container, account servers: base, +1, +2 (doc/aio.md)
        c.ports = dict(zip(STORAGE, (base, base + 1, base + 2)))
        stop_background_daemons(c)
        yield c
    finally:
        c.stop()


def ensure_recon_cache(c):
    """The recon_cache_path the storage servers read: the aio's own when
    its configs name one, else a directory of ours added to [DEFAULT] of
    each (then the servers are restarted to read it)."""
    paths, missing = set(), []
    for name in STORAGE:
        conf = os.path.join(c.etc, name + '.conf')
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(conf)
        value = cp['DEFAULT'].get('recon_cache_path')
        for section in cp.sections():
            value = cp[section].get('recon_cache_path', value)
        if value:
            paths.add(value)
        else:
            missing.append(conf)
    if not missing:
        assert len(paths) == 1, paths
        return paths.pop()
    path = os.path.join(c.tmp, 'recon-cache')
    os.makedirs(path, exist_ok=True)
    for conf in missing:
        with open(conf) as f:
            text = f.read()
        text = text.replace('[DEFAULT]\n',
                            '[DEFAULT]\nrecon_cache_path = %s\n' % path, 1)
        with open(conf, 'w') as f:
            f.write(text)
    kura(c, 'aio', 'stop', '--dir', c.dir, timeout=120)
    r = kura(c, 'aio', 'start', '--dir', c.dir, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return path


def stop_background_daemons(c):
    """Stops the aio's object replicator, auditor, updater and expirer
    (pids from DIR/run/<name>.pid), which would otherwise rewrite
    object.recon under the tests and restore a replica removed by hand."""
    for name in ('object-replicator', 'object-auditor', 'object-updater',
                 'object-expirer'):
        try:
            with open(os.path.join(c.dir, 'run', name + '.pid')) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.time() + 60
        while time.time() < deadline and os.path.exists('/proc/%d' % pid):
            time.sleep(0.1)


def eventually(check, timeout=60):
    """Runs check() until it returns without an AssertionError: the DB
    servers' replicator threads rewrite their recon files now and then."""
    deadline = time.time() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def kura(c, *args, timeout=300):
    return subprocess.run([c.kura] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def recon_get(port, what):
    """(status, body) of GET /recon/<what>; the body parsed when JSON."""
    url = 'http://127.0.0.1:%d/recon/%s' % (port, what)
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            assert r.headers['Content-Type'] == 'application/json'
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def write_cache(c, server, doc):
    path = os.path.join(c.recon, server + '.recon')
    os.makedirs(c.recon, exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        json.dump(doc, f)
    os.rename(path + '.tmp', path)


def find_data_files(c, name_part):
    """The .data files whose object-info names 'name_part'."""
    found = []
    for root, _, files in os.walk(os.path.join(c.dir)):
        for f in files:
            if not f.endswith('.data') or '/objects' not in root:
                continue
            path = os.path.join(root, f)
            r = kura(c, 'object-info', '--swift-dir', c.etc, '-n', path)
            if r.returncode == 0 and ('Object: %s\n' % name_part) in r.stdout:
                found.append(path)
    return found


# -- GET /recon/ -----------------------------------------------------------

def test_recon_answers_on_every_server(aio):
    for server, port in aio.ports.items():
        st, rep = recon_get(port, 'replication/object')
        assert st == 200, (server, rep)
        assert set(rep) == {'replication_time', 'replication_stats',
                            'replication_last', 'object_replication_time',
                            'object_replication_last', 'replication_progress'}
        for kind in ('container', 'account'):
            st, rep = recon_get(port, 'replication/' + kind)
            assert st == 200 and set(rep) == {
                'replication_time', 'replication_stats', 'replication_last'}
        st, a = recon_get(port, 'async')
        assert st == 200 and isinstance(a['async_pending'], int)
        assert 'async_pending_last' in a
        st, q = recon_get(port, 'quarantined')
        assert st == 200
        assert set(q) == {'objects', 'containers', 'accounts', 'policies'}
        st, du = recon_get(port, 'diskusage')
        assert st == 200 and len(du) == 4, du
        for d in du:
            assert d['device'] in ('d1', 'd2', 'd3', 'd4')
            assert d['mounted'] is True  # plain directories, mount_check off
            assert d['size'] >= d['used'] > 0 and d['avail'] >= 0
        assert recon_get(port, 'unmounted') == (200, [])
        st, md5s = recon_get(port, 'ringmd5')
        assert st == 200
        assert sorted(os.path.basename(k) for k in md5s) == [
            'account.ring.gz', 'container.ring.gz', 'object.ring.gz']
        st, conf = recon_get(port, 'swiftconfmd5')
        assert st == 200
        assert list(conf) == [os.path.join(aio.etc, 'swift.conf')]
        assert len(list(conf.values())[0]) == 32
        st, load = recon_get(port, 'load')
        assert st == 200 and {'1m', '5m', '15m', 'tasks',
                              'processes'} <= set(load)
        st, t = recon_get(port, 'time')
        assert st == 200 and abs(t - time.time()) < 600
        assert recon_get(port, 'version')[1] == {'version': '2.30.0'}
        for what, keys in (('auditor/object', {'object_auditor_stats_ALL',
                                               'object_auditor_stats_ZBF'}),
                           ('expirer/object', {'object_expiration_pass',
                                               'expired_last_pass'}),
                           ('updater/object', {'object_updater_sweep'})):
            st, body = recon_get(port, what)
            assert st == 200 and set(body) == keys, (what, body)
        for bad in ('nope', 'replication/bogus', 'expirer/container', ''):
            st, body = recon_get(port, bad)
            assert st == 404, (bad, body)
            assert body == 'Invalid path: /recon/' + bad


def test_recon_serves_the_cache(aio):
    write_cache(aio, 'object', {
        'object_replication_time': 1.5,
        'object_replication_last': time.time() - 30,
        'replication_stats': {'attempted': 10, 'success': 9, 'failure': 1},
        'replication_progress': {'parts_done': 5, 'parts_total': 10,
                                 'bytes': 5000000, 'objects': 50,
                                 'started': time.time() - 60,
                                 'eta': time.time() + 60},
        'async_pending': 7})
    port = aio.ports['object-server']
    st, rep = recon_get(port, 'replication/object')
    assert st == 200
    assert rep['object_replication_time'] == 1.5
    assert rep['replication_progress']['parts_done'] == 5
    assert recon_get(port, 'async')[1]['async_pending'] == 7
    # the container server reads the same directory

    def container_cache():
        write_cache(aio, 'container', {'replication_last': 12345.5})
        st, rep = recon_get(aio.ports['container-server'],
                            'replication/container')
        assert rep['replication_last'] == 12345.5
    eventually(container_cache)


# -- kura recon ------------------------------------------------------------

def test_kura_recon_all(aio):
    write_cache(aio, 'object', {
        'object_replication_time': 1.5,
        'object_replication_last': time.time() - 30,
        'replication_stats': {'attempted': 10, 'success': 9, 'failure': 1},
        'replication_progress': {'parts_done': 5, 'parts_total': 10,
                                 'bytes': 5000000, 'objects': 50,
                                 'started': time.time() - 60,
                                 'eta': time.time() + 3600}})
    r = kura(aio, 'recon', '--swift-dir', aio.etc, '--all',
             'object', 'container', 'account')
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for kind in ('object', 'container', 'account'):
        assert '--> Starting reconnaissance on 1 hosts (%s)' % kind in out
    assert '[async_pending] low: ' in out
    assert '[replication_time] low: 1, high: 1, avg: 1.5' in out
    assert '[replication_failure] low: 1, high: 1' in out
    assert 'Most recent completion was' in out
    assert '[replication_progress] 1 host replicating: 5/10 partitions ' \
        '(50.00%), 50 objects, 5 MB moved, ETA' in out
    assert '1/1 hosts matched, 0 error[s] while checking hosts.' in out
    assert '[quarantined_objects] low: 0' in out
    assert 'Disk usage: lowest: ' in out
    assert 'Versions matched (2.30.0)' in out
    assert "-> http" not in out  # no server failed to answer

    r = kura(aio, 'recon', '--swift-dir', aio.etc, '-r', '-q', '--json')
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    host = '127.0.0.1:%d' % aio.ports['object-server']
    assert doc['object']['errors'] == {}
    answers = doc['object']['hosts'][host]
    assert answers['replication/object']['replication_progress'][
        'parts_total'] == 10
    assert answers['quarantined']['objects'] == 0

    # a local ring that differs from the servers' is reported (the
    # account ring as the object ring: same hosts, another md5)
    other = os.path.join(aio.tmp, 'etc-copy')
    shutil.copytree(aio.etc, other)
    shutil.copy(os.path.join(other, 'account.ring.gz'),
                os.path.join(other, 'object.ring.gz'))
    r = kura(aio, 'recon', '--swift-dir', other, '--md5')
    assert r.returncode == 0, r.stderr
    assert "(object.ring.gz => " in r.stdout, r.stdout
    assert "doesn't match on disk md5sum" in r.stdout
    assert '0/1 hosts matched, 1 error[s]' in r.stdout

    r = kura(aio, 'recon', '--bogus')
    assert r.returncode == 2 and 'unknown option' in r.stderr
    r = kura(aio, 'recon', '--swift-dir', aio.etc, '-r', 'proxy')
    assert r.returncode == 2 and 'invalid server type' in r.stderr


def test_swift_recon_reads_kura(aio):
    """Swift 2.30's own swift-recon (in a child process) over the answers:
    the shapes are Swift's. (Not --md5: its swift.conf check looks up the
    key /etc/swift/swift.conf whatever --swiftdir says.)"""
    if not os.path.exists('/usr/bin/swift-recon'):
        pytest.skip('no swift-recon (python3-swift)')

    def check():
        write_cache(aio, 'object', {
            'object_replication_time': 2.5,
            'object_replication_last': time.time() - 30,
            'replication_stats': {'attempted': 4, 'success': 4,
                                  'failure': 0},
            'object_auditor_stats_ALL': {'audit_time': 3, 'passes': 9,
                                         'errors': 0, 'quarantined': 0,
                                         'bytes_processed': 900}})
        r = subprocess.run(
            ['/usr/bin/swift-recon', '--swiftdir', aio.etc, '-r', '-a',
             '-q', '-d', '-u', '-l', '-T', '--auditor', '--updater',
             '--expirer', '--swift-versions', 'object'],
            capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and 'Traceback' not in r.stderr, \
            r.stdout + r.stderr
        out = r.stdout
        assert 'Starting reconnaissance on 1 hosts (object)' in out
        assert '[replication_time] low: 2, high: 2, avg: 2.5' in out
        assert '[async_pending] low: 0' in out
        assert '[ALL_passes_last_path] low: 9' in out
        assert '[quarantined_objects] low: 0' in out
        assert 'Disk usage: lowest:' in out
        assert '1/1 hosts matched, 0 error[s]' in out  # time
        assert 'Versions matched (2.30.0)' in out
    eventually(check)


# -- kura object-info ------------------------------------------------------

def test_object_info(aio):
    r = aio.swift('upload', '--object-name', 'info/obj', '-H',
                  'X-Object-Meta-Color: blue', 'infoc', '/etc/hostname')
    assert r.returncode == 0, r.stderr
    files = find_data_files(aio, 'info/obj')
    assert len(files) == 3, files
    r = kura(aio, 'object-info', '--swift-dir', aio.etc, files[0])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert 'Path: /AUTH_test/infoc/info/obj\n' in out
    assert '  Account: AUTH_test\n  Container: infoc\n' in out
    assert 'X-Object-Meta-Color: blue' in out
    assert '(valid)' in out and "doesn't match" not in out
    assert 'Content-Length: %d (valid)' % os.path.getsize(
        '/etc/hostname') in out
    assert out.count('curl -g -I -XHEAD "http://127.0.0.1:%d/'
                     % aio.ports['object-server']) == 4  # 3 + a handoff
    assert '/infoc/info/obj"' in out
    part = out.split('Partition\t')[1].split('\n')[0]
    assert '/objects/%s/' % part in files[0]

    # a rotten copy (xattrs kept): the ETag no longer matches
    rotten = os.path.join(aio.tmp, os.path.basename(files[0]))
    shutil.copy2(files[0], rotten)
    with open(rotten, 'r+b') as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 1]))
    r = kura(aio, 'object-info', '--swift-dir', aio.etc, rotten)
    assert r.returncode == 0, r.stderr
    assert "doesn't match file hash of" in r.stdout
    assert 'not in its hash directory' in r.stdout

    # not an object file at all
    bare = os.path.join(aio.tmp, '1700000000.00000.data')
    with open(bare, 'w') as f:
        f.write('x')
    r = kura(aio, 'object-info', bare)
    assert r.returncode == 2 and 'no metadata' in r.stderr
    r = kura(aio, 'object-info', os.path.join(aio.tmp, 'x.txt'))
    assert r.returncode == 2 and 'not an object file' in r.stderr
    r = kura(aio, 'object-info', os.path.join(aio.tmp, '1.00000.data'))
    assert r.returncode == 2


# -- dispersion ------------------------------------------------------------

def dispersion_report(aio, conf):
    r = kura(aio, 'dispersion-report', '--conf', conf, '--json')
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_dispersion(aio):
    conf = os.path.join(aio.tmp, 'dispersion.conf')
    with open(conf, 'w') as f:
        f.write('[dispersion]\nauth_url = %s\nauth_user = test:tester\n'
                'auth_key = testing\nswift_dir = %s\n'
                'dispersion_coverage = 2\n' % (aio.auth_url, aio.etc))
    r = kura(aio, 'dispersion-populate', '--conf', conf)
    assert r.returncode == 0, r.stdout + r.stderr
    # 2 % of 1024 partitions
    assert 'Created 20 containers for dispersion reporting' in r.stdout
    assert 'Created 20 objects for dispersion reporting' in r.stdout

    rep = dispersion_report(aio, conf)
    for kind, expected in (('container', 60), ('object', 60),
                           ('account', 3)):
        assert rep[kind]['pct_found'] == 100.0, rep
        assert rep[kind]['copies_expected'] == expected
        assert rep[kind]['copies_found'] == expected
        assert rep[kind]['retries'] == 0
    r = kura(aio, 'dispersion-report', '--conf', conf)
    assert r.returncode == 0
    assert '100.00% of container copies found (60 of 60)' in r.stdout
    assert '100.00% of object copies found (60 of 60)' in r.stdout

    # one replica removed by hand: the report says so, and still exits 0
    victim = find_data_files(aio, 'dispersion_0')
    assert len(victim) == 3, victim
    os.unlink(victim[0])
    rep = dispersion_report(aio, conf)
    if os.path.exists(victim[0]):
        pytest.skip('a replicator restored the copy before the report')
    assert rep['object']['copies_found'] == 59, rep
    assert rep['object']['missing_1'] == 1
    assert rep['object']['pct_found'] < 100
    assert rep['container']['pct_found'] == 100.0
    r = kura(aio, 'dispersion-report', '--conf', conf, '--object-only')
    assert r.returncode == 0
    assert 'There was 1 partition missing 1 copy.' in r.stdout
    assert '98.33% of object copies found (59 of 60)' in r.stdout
    assert 'container copies' not in r.stdout


def test_dispersion_bad_input(aio):
    r = kura(aio, 'dispersion-report', '--conf',
             os.path.join(aio.tmp, 'missing.conf'))
    assert r.returncode == 2 and 'missing.conf' in r.stderr
    r = kura(aio, 'dispersion-report', '--auth-url', aio.auth_url,
             '--auth-user', 'test:tester', '--auth-key', 'wrong',
             '--swift-dir', aio.etc)
    assert r.returncode == 1 and 'authentication' in r.stderr
    empty = os.path.join(aio.tmp, 'empty.conf')
    with open(empty, 'w') as f:
        f.write('[dispersion]\n')
    r = kura(aio, 'dispersion-populate', '--conf', empty)
    assert r.returncode == 2 and 'auth_url' in r.stderr
    r = kura(aio, 'dispersion-populate', '--auth-url', aio.auth_url,
             '--auth-user', 'test:tester', '--auth-key', 'testing',
             '--coverage', '101')
    assert r.returncode == 2 and 'coverage' in r.stderr
