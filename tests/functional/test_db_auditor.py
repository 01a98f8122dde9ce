"""The container and account auditor, a thread of the DB servers
([container-auditor], [account-auditor]; doc/replication.md §6).

A server runs with a short interval; while it is stopped, one container's
DB gets a row that does not decode and another's stats disagree with its
rows (written straight into the LevelDB by kura-test-kvdb-put). Once it
runs again, the first is quarantined (its keys copied to
quarantined/containers/, the DB gone: 404) and the second's stats are
rewritten from its rows; recon says so with Swift's keys.
"""
import hashlib
import json
import os
import struct
import subprocess
import time

import pytest

from db_servers import BUILD, CONTAINER_SERVER, ACCOUNT_SERVER, Server, ts

KVDB_PUT = os.path.join(BUILD, 'tests', 'unit', 'kura-test-kvdb-put')
PART = 3

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (CONTAINER_SERVER, KVDB_PUT)),
    reason='kura-container-server or kura-test-kvdb-put not built')


def db_prefix(*names):
    # db_servers.py's swift.conf: prefix "kura", suffix "test"
    path = '/' + '/'.join(names)
    return struct.pack('>I', PART) + hashlib.md5(
        ('kura' + path + 'test').encode()).digest()


def svarint(n):
    z, out = (n << 1) ^ (n >> 63), b''
    while True:
        out += bytes([(z & 0x7f) | (0x80 if z > 0x7f else 0)])
        z >>= 7
        if not z:
            return out


def kvdb_put(ldb, key, val):
    subprocess.run([KVDB_PUT, ldb, key.hex(), val.hex()], check=True)


def wait_for(what, fn, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError('timed out waiting for ' + what)


def recon(tmp, kind):
    try:
        with open(os.path.join(str(tmp), 'recon', kind + '.recon')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def with_auditor(server, tmp, kind):
    with open(server.conf, 'a') as f:
        f.write('\n[%s-auditor]\ninterval = 2\nrecon_cache_path = %s\n'
                % (kind, os.path.join(str(tmp), 'recon')))
    return server


def test_container_auditor(tmp_path):
    cs = with_auditor(Server(CONTAINER_SERVER, 'container', tmp_path),
                      tmp_path, 'container')
    cs.start()
    try:
        for c in ('bad', 'skewed'):
            st, _, _ = cs.request('PUT', '/sda/%d/a/%s' % (PART, c),
                                  {'X-Timestamp': ts(1)})
            assert st == 201
            for i in range(3):
                st, _, _ = cs.request(
                    'PUT', '/sda/%d/a/%s/o%d' % (PART, c, i),
                    {'X-Timestamp': ts(2 + i), 'X-Size': '10',
                     'X-Content-Type': 'text/plain', 'X-Etag': 'e' * 32,
                     'X-Backend-Storage-Policy-Index': '0'})
                assert st == 201
        good = wait_for('a pass over good DBs', lambda: recon(
            tmp_path, 'container').get('container_audits_passed', 0) >= 2
            and recon(tmp_path, 'container'))
        assert good['container_audits_failed'] == 0
        for k in ('container_audits_since', 'container_auditor_pass_completed'):
            assert k in good
    finally:
        cs.stop()

    ldb = os.path.join(cs.devices, 'sda', 'containers.ldb')
    kvdb_put(ldb, db_prefix('a', 'bad') + b'\x10o1', b'\x01\x02')
    # object_count 99, bytes_used 7, max_row 3: the rows say 3 and 30
    kvdb_put(ldb, db_prefix('a', 'skewed') + b'\x02',
             svarint(99) + svarint(7) + b'\x03')
    cs.start()
    try:
        # a pass's counts stay in recon until the next pass ends
        failed = wait_for('the corrupt DB failing', lambda: recon(
            tmp_path, 'container').get('container_audits_failed', 0) >= 1
            and recon(tmp_path, 'container'))
        assert failed['container_audits_failed'] == 1
        assert failed['container_audits_passed'] == 1  # repaired passes
        qdir = os.path.join(cs.devices, 'sda', 'quarantined', 'containers')
        files = os.listdir(qdir)
        assert len(files) == 1
        assert files[0].startswith(db_prefix('a', 'bad')[4:].hex() + '-')
        with open(os.path.join(qdir, files[0]), 'rb') as f:
            assert f.read(8) == b'KURADBQ1'
        st, _, _ = cs.request('HEAD', '/sda/%d/a/bad' % PART)
        assert st == 404
        st, h, _ = cs.request('HEAD', '/sda/%d/a/skewed' % PART)
        assert st == 204
        assert h['x-container-object-count'] == '3'
        assert h['x-container-bytes-used'] == '30'
        log = cs.log_text()
        assert 'quarantined corrupt container DB /a/bad' in log
        assert 'container DB /a/skewed: stats did not match' in log
    finally:
        cs.stop()


def test_account_auditor_passes(tmp_path):
    acs = with_auditor(Server(ACCOUNT_SERVER, 'account', tmp_path),
                       tmp_path, 'account')
    acs.start()
    try:
        st, _, _ = acs.request('PUT', '/sda/%d/a' % PART,
                               {'X-Timestamp': ts(1)})
        assert st == 201
        got = wait_for('an account pass', lambda: recon(
            tmp_path, 'account').get('account_audits_passed', 0) >= 1
            and recon(tmp_path, 'account'))
        assert got['account_audits_failed'] == 0
        assert 'account_auditor_pass_completed' in got
    finally:
        acs.stop()
