"""kura-replicator on a one-node `kura aio` (4 devices, 3 replicas).

Objects go in through the proxy; then a device's objects are wiped (the
device directory stays, as a replaced disk's would), a device disappears
(its peers answer 507), objects sit on a handoff device only, and
`kura-replicator --once` run by the test must put every replica back on
its primaries, keep deleted objects deleted (tombstones replicated) and
revert handoff partitions. The aio's own replicator, if it starts one, is
stopped first so the test's runs do the work.
"""
import configparser
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from cluster import BUILD, KuraCluster

REPLICATOR = os.path.join(BUILD, 'replicator', 'kura-replicator')
KURA = os.path.join(BUILD, 'tools', 'kura')
ACCOUNT = 'AUTH_test'
CONTAINER = 'repl'
N_OBJECTS = 40


@pytest.fixture(scope='module')
def aio():
    if not os.path.exists(REPLICATOR):
        pytest.skip('kura-replicator not built')
    c = KuraCluster()
    try:
        stop_aio_replicator(c.dir)
        yield c
    finally:
        c.stop()


def stop_aio_replicator(aio_dir):
    """SIGTERM to the replicator `kura aio` started, if it started one."""
    pidfile = os.path.join(aio_dir, 'run', 'object-replicator.pid')
    try:
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise RuntimeError('the aio replicator did not stop')


def devices_dir(c):
    return os.path.join(c.dir, 'devices')


def replicator_conf(c, **options):
    """A copy of the aio's object-server.conf whose [object-replicator]
    writes its log and recon cache into the test's temp dir."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(c.dir, 'etc', 'object-server.conf'))
    if not cp.has_section('object-replicator'):
        cp.add_section('object-replicator')
    sec = cp['object-replicator']
    sec['log_name'] = 'object-replicator'
    sec['log_file'] = os.path.join(c.tmp, 'object-replicator.log')
    sec['recon_cache_path'] = os.path.join(c.tmp, 'recon')
    sec['concurrency'] = '2'
    for k, v in options.items():
        sec[k] = str(v)
    path = os.path.join(c.tmp, 'object-replicator.conf')
    with open(path, 'w') as f:
        cp.write(f)
    return path


def run_replicator(c, *args, **options):
    conf = replicator_conf(c, **options)
    r = subprocess.run([REPLICATOR, '--once', *args, conf],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return conf


def recon(c):
    with open(os.path.join(c.tmp, 'recon', 'object.recon')) as f:
        return json.load(f)


_placements = {}


def placement(c, obj):
    """(part, hash, [primary devices], [handoff devices]) from get-nodes
    (the ring does not change here: asked once per name)."""
    if obj not in _placements:
        _placements[obj] = get_nodes(c, obj)
    return _placements[obj]


def get_nodes(c, obj):
    etc = os.path.join(c.dir, 'etc')
    r = subprocess.run(
        [KURA, 'get-nodes', '-c', os.path.join(etc, 'swift.conf'),
         os.path.join(etc, 'object.ring.gz'), ACCOUNT, CONTAINER, obj],
        capture_output=True, text=True, timeout=60, check=True)
    part = int(re.search(r'^Partition\s+(\d+)', r.stdout, re.M).group(1))
    h = re.search(r'^Hash\s+([0-9a-f]{32})', r.stdout, re.M).group(1)
    primaries, handoffs = [], []
    for m in re.finditer(r'^Server:Port Device\s+\S+ (\S+)(.*)$', r.stdout,
                         re.M):
        (handoffs if 'Handoff' in m.group(2) else primaries).append(m.group(1))
    return part, h, primaries, handoffs


def storage_port(c):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(c.dir, 'etc', 'object-server.conf'))
    return cp.getint('DEFAULT', 'bind_port')


def hash_dir(c, dev, part, h):
    return os.path.join(devices_dir(c), dev, 'objects', str(part), h[-3:], h)


def files(c, dev, part, h):
    """The names in the object's hash directory on 'dev' ([] if none)."""
    try:
        return sorted(os.listdir(hash_dir(c, dev, part, h)))
    except FileNotFoundError:
        return []


def put(c, name, body):
    status, _, _ = c.http('PUT', c.path(CONTAINER, name), body=body)
    assert status == 201, (name, status)


@pytest.fixture(scope='module')
def loaded(aio):
    """N_OBJECTS objects and one deleted object."""
    status, _, _ = aio.http('PUT', aio.path(CONTAINER))
    assert status in (201, 202)
    objs = {}
    for i in range(N_OBJECTS):
        name = 'obj-%03d' % i
        body = ('%s ' % name).encode() * (i + 1)
        put(aio, name, body)
        objs[name] = body
    put(aio, 'deleted', b'soon gone')
    status, _, _ = aio.http('DELETE', aio.path(CONTAINER, 'deleted'))
    assert status == 204
    return objs


def assert_all_in_place(c, objs):
    for name in objs:
        part, h, primaries, _ = placement(c, name)
        for dev in primaries:
            assert any(f.endswith('.data') for f in files(c, dev, part, h)), \
                (name, dev, part)
    part, h, primaries, _ = placement(c, 'deleted')
    for dev in primaries:
        fs = files(c, dev, part, h)
        assert any(f.endswith('.ts') for f in fs), (dev, fs)
        assert not any(f.endswith('.data') for f in fs), (dev, fs)


def test_refill_of_a_wiped_device(aio, loaded):
    objects = os.path.join(devices_dir(aio), 'd1', 'objects')
    shutil.rmtree(objects)
    run_replicator(aio)
    assert_all_in_place(aio, loaded)
    # through the proxy too: the bytes, and the deleted object stays so
    for name, body in loaded.items():
        status, _, got = aio.http('GET', aio.path(CONTAINER, name))
        assert (status, got) == (200, body), name
    status, _, _ = aio.http('GET', aio.path(CONTAINER, 'deleted'))
    assert status == 404

    r = recon(aio)
    for key in ('object_replication_time', 'object_replication_last',
                'replication_stats', 'replication_progress'):
        assert key in r, key
    st = r['replication_stats']
    for key in ('attempted', 'success', 'failure', 'hashmatch', 'remove',
                'suffix_count', 'suffix_sync', 'objects', 'bytes', 'start'):
        assert key in st, key
    assert st['attempted'] > 0
    assert st['failure'] == 0
    # d1 held about 3/4 of the objects (plus the tombstone), pushed by
    # one or more of the other primaries
    assert st['objects'] >= N_OBJECTS // 2
    assert st['suffix_sync'] > 0
    prog = r['replication_progress']
    assert prog['parts_done'] == prog['parts_total'] > 0
    assert prog['objects'] == st['objects']
    assert prog['bytes'] == st['bytes'] > 0
    assert prog['started'] <= r['object_replication_last']


def test_pass_without_change_syncs_nothing(aio, loaded):
    run_replicator(aio)
    st = recon(aio)['replication_stats']
    assert st['failure'] == 0
    assert st['suffix_sync'] == 0
    assert st['objects'] == 0
    assert st['hashmatch'] > 0
    assert_all_in_place(aio, loaded)


def test_handoff_partition_is_pushed_and_removed(aio, loaded):
    name = 'handoff-only'
    part, h, primaries, handoffs = placement(aio, name)
    handoff = handoffs[0]
    body = b'only on a handoff'
    # a replication PUT straight to the object server's handoff device:
    # no copy on any primary, no container update
    conn = http.client.HTTPConnection('127.0.0.1', storage_port(aio),
                                      timeout=60)
    conn.request('PUT', '/%s/%d/%s/%s/%s' % (handoff, part, ACCOUNT,
                                             CONTAINER, name), body=body,
                 headers={'X-Timestamp': '%.5f' % time.time(),
                          'Content-Type': 'application/octet-stream',
                          'X-Backend-Replication': 'True'})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 201
    # and an empty partition directory of another part the same device is
    # a handoff for: removed as it is
    empty_part = None
    for i in range(200):
        p, _, prim, _ = placement(aio, 'probe-%d' % i)
        d = os.path.join(devices_dir(aio), handoff, 'objects', str(p))
        if handoff not in prim and p != part and not os.path.exists(d):
            empty_part = d
            break
    os.makedirs(empty_part)
    for dev in primaries:
        assert files(aio, dev, part, h) == []

    run_replicator(aio)
    for dev in primaries:
        assert any(f.endswith('.data') for f in files(aio, dev, part, h)), dev
    assert not os.path.exists(os.path.join(devices_dir(aio), handoff,
                                           'objects', str(part)))
    assert not os.path.exists(empty_part)
    st = recon(aio)['replication_stats']
    assert st['remove'] >= 2
    assert st['failure'] == 0
    status, _, got = aio.http('GET', aio.path(CONTAINER, name))
    assert (status, got) == (200, body)
    assert_all_in_place(aio, loaded)


def test_unmounted_primary_is_replaced_by_a_handoff(aio, loaded):
    """A device that answers 507 (missing here; unmounted in production)
    gets its replicas on a handoff; once back (empty), the handoff
    partitions revert to it and go."""
    away = os.path.join(aio.tmp, 'd2.away')
    d2 = os.path.join(devices_dir(aio), 'd2')
    os.rename(d2, away)
    try:
        run_replicator(aio)
        st = recon(aio)['replication_stats']
        assert st['failure'] > 0  # the 507s
        moved = 0
        for name in loaded:
            part, h, primaries, handoffs = placement(aio, name)
            if 'd2' in primaries:
                assert any(f.endswith('.data') for f in
                           files(aio, handoffs[0], part, h)), name
                moved += 1
        assert moved > 0
    finally:
        shutil.rmtree(os.path.join(away, 'objects'), ignore_errors=True)
        os.rename(away, d2)
    # two passes: the first refills d2 from the primaries and reverts the
    # handoffs (which may go in either order); the second finds it done
    run_replicator(aio)
    run_replicator(aio)
    assert_all_in_place(aio, loaded)
    for name in loaded:
        part, h, primaries, handoffs = placement(aio, name)
        if handoffs[0] not in primaries:
            assert files(aio, handoffs[0], part, h) == [], name
    st = recon(aio)['replication_stats']
    assert st['failure'] == 0


def test_devices_and_partitions_restrict_a_pass(aio, loaded):
    name = 'obj-000'
    part, h, primaries, _ = placement(aio, name)
    target = primaries[0]
    # gone as a quarantine takes it: the suffix marked for rehashing (a
    # file removed behind the cache's back stays unseen, as in Swift)
    shutil.rmtree(hash_dir(aio, target, part, h))
    with open(os.path.join(devices_dir(aio), target, 'objects', str(part),
                           'hashes.invalid'), 'a') as f:
        f.write(h[-3:] + '\n')
    before = os.path.getmtime(os.path.join(aio.tmp, 'recon', 'object.recon'))
    # another partition only: nothing comes back
    run_replicator(aio, '--partitions', str((part + 1) % 1024))
    assert files(aio, target, part, h) == []
    # that partition, from the other primaries
    others = ','.join(d for d in primaries if d != target)
    run_replicator(aio, '--devices', others, '--partitions', str(part))
    assert any(f.endswith('.data') for f in files(aio, target, part, h))
    # restricted passes leave the recon cache alone, as Swift's do
    after = os.path.getmtime(os.path.join(aio.tmp, 'recon', 'object.recon'))
    assert after == before


def test_bad_arguments(aio):
    conf = replicator_conf(aio)
    for args in (['--partitions', 'x', conf], ['--partitions', '-1', conf],
                 ['--bogus', conf], [], [conf, conf]):
        r = subprocess.run([REPLICATOR, '--once', *args],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
    bad = os.path.join(aio.tmp, 'bad.conf')
    with open(bad, 'w') as f:
        f.write('[DEFAULT]\ndevices = /nonexistent\n')
    r = subprocess.run([REPLICATOR, '--once', bad], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert 'no [object-replicator] section' in r.stderr
    with open(bad, 'a') as f:
        f.write('[object-replicator]\nconcurrency = 0\n')
    r = subprocess.run([REPLICATOR, '--once', bad], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert 'concurrency' in r.stderr


def test_daemon_runs_passes_until_sigterm(aio, loaded):
    conf = replicator_conf(aio, interval=1)
    log_file = os.path.join(aio.tmp, 'object-replicator.log')
    with open(log_file, 'a'):
        pass
    start = os.path.getsize(log_file)
    proc = subprocess.Popen([REPLICATOR, conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        # two passes ended: it runs again after its interval
        deadline = time.time() + 300
        while time.time() < deadline:
            with open(log_file) as f:
                f.seek(start)
                if f.read().count('object replication complete') >= 2:
                    break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
        else:
            raise AssertionError('fewer than two passes in 300 s')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(log_file) as f:
        f.seek(start)
        assert 'object-replicator stopping' in f.read()
    # whether the signal cut a pass short or not, none shows as running
    prog = recon(aio)['replication_progress']
    assert prog['parts_done'] == prog['parts_total']
