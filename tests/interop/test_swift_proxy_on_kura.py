"""Interop: OpenStack Swift 2.30's proxy-server in front of Kura's storage
servers.

Runs the Swift API acceptance tests (tests/functional/test_swift_api.py)
with KURA_TEST_TARGET=swift-on-kura: `kura aio start` makes swift.conf and
the rings (kura-ring, Swift's ring format) and runs kura-object-server,
kura-container-server and kura-account-server; Debian's swift-proxy, with
tempauth and memcached, is the only proxy
(tests/functional/cluster_swift_on_kura.py). Every one of those tests
must pass: Kura's servers answer Swift's backend API as Swift's own
storage servers do.

The suite runs in a child pytest: the functional tests must never share a
process with Swift. KURA_BUILD is passed through. Swift's proxy makes
objects at Python's pace (about 15-25 PUTs/s on 2 busy cores), so the
listing test gets 1,050 objects here instead of 10,050 (which alone took
5-10 minutes) unless KURA_TEST_LISTING_OBJECTS says otherwise; paging past
the 10,000-row page is covered by the kura target and
tests/functional/test_container_server.py. The 1 GiB object stays.
"""
import os
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SYSTEM_PYTHON = '/usr/bin/python3'
KURA_BINARIES = ('tools/kura', 'tools/kura-ring',
                 'storage/kura-object-server',
                 'storage/kura-container-server',
                 'storage/kura-account-server')
TIMEOUT = 1800


def test_swift_api_suite_passes(kura_build):
    for exe in ('/usr/bin/swift-proxy-server', '/usr/bin/memcached',
                '/usr/bin/swift', SYSTEM_PYTHON):
        if not os.path.exists(exe):
            pytest.skip('%s not installed (scripts/install-deps.sh)' % exe)
    build = os.path.abspath(kura_build)
    for exe in KURA_BINARIES:
        if not os.path.exists(os.path.join(build, exe)):
            pytest.skip('%s not built in %s' % (exe, build))
    if subprocess.run([SYSTEM_PYTHON, '-c', 'import pytest, swift'],
                      capture_output=True).returncode:
        pytest.skip('python3-swift or python3-pytest missing for %s'
                    % SYSTEM_PYTHON)
    env = dict(os.environ, KURA_BUILD=build, KURA_TEST_TARGET='swift-on-kura')
    env.setdefault('KURA_TEST_LISTING_OBJECTS', '1050')
    cmd = [SYSTEM_PYTHON, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
           '-rfEx', os.path.join('tests', 'functional', 'test_swift_api.py')]
    start = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                           text=True, errors='replace', timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b''
        if isinstance(out, bytes):
            out = out.decode(errors='replace')
        pytest.fail('test_swift_api.py on swift-on-kura ran over %d s:\n%s'
                    % (TIMEOUT, out[-8000:]))
    out = r.stdout + r.stderr
    print('test_swift_api.py on swift-on-kura: %.0f s' %
          (time.monotonic() - start))
    assert r.returncode == 0, \
        'test_swift_api.py on swift-on-kura: exit %d\n%s' % (
            r.returncode, out[-12000:])
    # all skipped is no pass: the cluster must have run
    assert ' passed' in r.stdout and ' skipped' not in r.stdout, out[-4000:]
