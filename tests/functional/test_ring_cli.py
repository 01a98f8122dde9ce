"""Functional tests for kura-ring, the swift-ring-builder compatible CLI.

Every command is driven on a temp dir. Where the output is deterministic
(before any rebalance: summaries, add messages, searches, set_* messages)
it is compared line by line with the real swift-ring-builder run on the
same inputs; afterwards the shape and the exit codes are checked. Bad input
must give exit 2, one line on stderr and an unchanged builder file.

Binary: $KURA_BUILD/tools/kura-ring (KURA_BUILD defaults to <repo>/build).
Run with: /usr/bin/python3 -m pytest tests/functional/test_ring_cli.py
"""
import gzip
import json
import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
KURA_RING = os.path.join(os.path.abspath(os.environ.get(
    'KURA_BUILD', os.path.join(REPO, 'build'))), 'tools', 'kura-ring')
SWIFT_RING_BUILDER = shutil.which('swift-ring-builder')

pytestmark = pytest.mark.skipif(not os.access(KURA_RING, os.X_OK),
                                reason='kura-ring not built: ' + KURA_RING)
needs_swift = pytest.mark.skipif(SWIFT_RING_BUILDER is None,
                                 reason='swift-ring-builder not installed')

DEVICES = [
    'r1z1-127.0.0.1:6200/sdb', '100',
    'r1z2-127.0.0.2:6200/sdb', '100',
    'r1z3-127.0.0.3:6200R10.0.0.3:6300/sdc_"fast disk"', '50',
    'z4-[::1]:6201/sdd', '100',
]


def run(args, cwd, stdin=subprocess.DEVNULL, binary=None):
    p = subprocess.run([binary or KURA_RING] + list(args), cwd=cwd,
                       stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def swift(args, cwd):
    return run(args, cwd, binary=SWIFT_RING_BUILDER)


def unid(text):
    """Builder ids are random uuids: hide them."""
    return re.sub(r', id [0-9a-f]{32}', ', id ID', text)


@pytest.fixture
def ring_cli_dirs(tmp_path):
    """Two sibling dirs: one for kura-ring, one for swift-ring-builder."""
    k, s = tmp_path / 'kura', tmp_path / 'swift'
    k.mkdir()
    s.mkdir()
    return str(k), str(s)


@pytest.fixture
def ring_cli_builder(tmp_path):
    """A kura-ring builder with four devices, not rebalanced."""
    d = str(tmp_path)
    assert run(['object.builder', 'create', '8', '3', '1'], d)[0] == 0
    assert run(['object.builder', 'add'] + DEVICES, d)[0] == 0
    return d


@pytest.fixture(scope='module')
def base_builders(tmp_path_factory):
    """object.builder with DEVICES added, not rebalanced, made once per
    module by each tool: every swift-ring-builder run costs seconds of
    Python start-up, so the tests below copy these instead of running
    create and add again."""
    dirs = []
    for name, fn in (('kura', run), ('swift', swift)):
        d = str(tmp_path_factory.mktemp('base-' + name))
        if fn is run or SWIFT_RING_BUILDER:
            assert fn(['object.builder', 'create', '8', '3', '1'], d)[0] == 0
            assert fn(['object.builder', 'add'] + DEVICES, d)[0] == 0
        dirs.append(d)
    return dirs


@pytest.fixture
def ring_cli_added(ring_cli_dirs, base_builders):
    """ring_cli_dirs holding a copy of each tool's base builder."""
    for src, dst in zip(base_builders, ring_cli_dirs):
        shutil.copy(os.path.join(src, 'object.builder'), dst)
    return ring_cli_dirs


def both(dirs, args):
    k, s = dirs
    return run(args, k), swift(args, s)


def file_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


# ---- compared with swift-ring-builder --------------------------------------

@needs_swift
def test_create_and_empty_summary_match_swift(ring_cli_dirs):
    kc, sc = both(ring_cli_dirs, ['object.builder', 'create', '10', '3', '1'])
    assert kc[0] == sc[0] == 0
    for d in ring_cli_dirs:
        backups = os.listdir(os.path.join(d, 'backups'))
        assert len(backups) == 1 and backups[0].endswith('.object.builder')
    k, s = both(ring_cli_dirs, ['object.builder'])
    assert k[0] == s[0] == 0
    assert unid(k[1]) == unid(s[1])


@needs_swift
def test_add_messages_and_summary_match_swift(ring_cli_dirs):
    both(ring_cli_dirs, ['object.builder', 'create', '8', '3', '1'])
    k, s = both(ring_cli_dirs, ['object.builder', 'add'] + DEVICES)
    assert k[0] == s[0] == 0
    assert k[1] == s[1]
    assert 'Defaulting to region 1' in k[2]
    assert 'Device d0r1z1-127.0.0.1:6200R127.0.0.1:6200/sdb_"" with 100.0 ' \
        'weight got id 0' in k[1]
    opts = ['object.builder', 'add', '--region', '2', '--zone', '5', '--ip',
            'Node.Example', '--port', '6202', '--replication-ip',
            '192.168.0.1', '--device', 'sde', '--weight', '12.5', '--meta',
            'm']
    k, s = both(ring_cli_dirs, opts)
    assert k[0] == s[0] == 0
    assert k[1] == s[1]
    k, s = both(ring_cli_dirs, ['object.builder'])
    assert unid(k[1]) == unid(s[1])


@needs_swift
@pytest.mark.parametrize('value', [
    'd1', 'r1', 'z2', 'z1-127.0.0.1', '127.0.0.2', ':6200', 'z1:6200',
    'R10.0.0.3', 'R:6300', '127.0.0.3R10.0.0.3', '/sdb', '_fast',
    '[::1]', 'z4-[::1]:6201', 'd0r1z1-127.0.0.1:6200/sdb',
    'r1z3-127.0.0.3:6200R10.0.0.3:6300/sdc_"fast',
])
def test_search_matches_swift(ring_cli_added, value):
    k, s = both(ring_cli_added, ['object.builder', 'search', value])
    assert k[0] == s[0] == 0
    assert k[1] == s[1]


# Known difference of our builder library: these bump the build version,
# Swift's RingBuilder does not (it edits the fields in place).
BUMPS_VERSION = ('set_info', 'set_overload', 'set_replicas')


def unversion(result):
    rc, out, err = result
    return rc, re.sub(r'build version \d+', 'build version N', out), err


@needs_swift
@pytest.mark.parametrize('args', [
    ['search', '--zone', '1'],
    ['search', '--ip', '127.0.0.2', '--port', '6200'],
    ['set_weight', 'd1', '33.3'],
    ['set_weight', '--zone', '2', '7'],
    ['set_weight', 'r1', '5', '--yes'],
    ['set_region', 'd2', '3'],
    ['set_zone', 'z1', '9'],
    ['set_info', 'd0', '127.0.0.9:6209/sdz_new'],
    ['set_info', 'd1', 'R10.1.1.1:7000'],
    ['set_info', '--id', '2', '--change-meta', 'hello'],
    ['remove', 'd3'],
    ['remove', 'r1', '--yes'],
    ['set_overload', '10%'],
    ['set_overload', '0.25'],
    ['set_overload', '5'],
    ['set_replicas', '2.5'],
    ['set_min_part_hours', '24'],
])
def test_changes_match_swift(ring_cli_added, args):
    k, s = both(ring_cli_added, ['object.builder'] + args)
    assert k[0] == s[0]
    assert k[1] == s[1]
    k, s = both(ring_cli_added, ['object.builder'])
    if args[0] in BUMPS_VERSION:
        k, s = unversion(k), unversion(s)
    assert unid(k[1]) == unid(s[1])


@needs_swift
def test_rebalance_shape_matches_swift(ring_cli_added):
    k, s = both(ring_cli_added, ['object.builder', 'rebalance'])
    reassigned = re.compile(r'^Reassigned (\d+) \((\d+\.\d\d)%\) partitions\. '
                            r'Balance is now (\d+\.\d\d)\.  '
                            r'Dispersion is now (\d+\.\d\d)$', re.M)
    assert reassigned.search(k[1]) and reassigned.search(s[1])
    assert reassigned.search(k[1]).group(1) == '768'
    # again at once: min_part_hours has not passed
    k, s = both(ring_cli_added, ['object.builder', 'rebalance'])
    assert k[0] == s[0] == 1
    assert k[1].splitlines()[0] == s[1].splitlines()[0] == \
        'No partitions could be reassigned.'


# ---- kura-ring on its own ---------------------------------------------------

def test_rebalance_writes_ring_builder_and_backups(ring_cli_builder):
    d = ring_cli_builder
    rc, out, err = run(['object.builder', 'rebalance', '--seed', '7'], d)
    assert rc in (0, 1), err
    assert out.startswith('Reassigned 768 (300.00%) partitions.')
    assert os.path.exists(os.path.join(d, 'object.ring.gz'))
    backups = os.listdir(os.path.join(d, 'backups'))
    assert any(b.endswith('.object.ring.gz') for b in backups)
    # one per second at most: create, add and rebalance may share one
    assert any(b.endswith('.object.builder') for b in backups)
    with gzip.open(os.path.join(d, 'object.ring.gz')) as f:
        assert f.read(4) == b'R1NG'
    rc, out, _ = run(['object.builder'], d)
    assert rc == 0
    assert 'Ring file object.ring.gz is up-to-date' in out
    assert run(['object.builder', 'validate'], d)[0] == 0
    rc, out, _ = run(['object.builder', 'list_parts', 'd0'], d)
    assert rc == 0 and out.startswith('Partition   Matches\n')
    assert re.match(r'^ {0,8}\d+ {3} {0,6}[1-3]$', out.splitlines()[1])
    rc, out, _ = run(['object.builder', 'dispersion', '-v'], d)
    assert rc in (0, 1)
    assert out.startswith('Dispersion is ')
    assert 'Required overload is ' in out
    rc, out, _ = run(['object.builder', 'dispersion', r'r\d+z\d+$', '-v'], d)
    rows = [ln.split()[0] for ln in out.splitlines()
            if re.match(r'^r\d', ln)]
    assert rows and all(re.match(r'^r\d+z\d+$', r) for r in rows)


@needs_swift
def test_ring_file_is_read_by_swift(ring_cli_builder):
    d = ring_cli_builder
    run(['object.builder', 'rebalance', '--seed', '1'], d)
    code = ('import json,sys\n'
            'from swift.common.ring import RingData\n'
            'r = RingData.load(sys.argv[1])\n'
            'print(json.dumps([len(r._replica2part2dev_id), '
            'len(r._replica2part2dev_id[0]), '
            '[x["device"] for x in r.devs if x]]))\n')
    p = subprocess.run(['/usr/bin/python3', '-c', code,
                        os.path.join(d, 'object.ring.gz')],
                       stdout=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0
    assert json.loads(p.stdout) == [3, 256, ['sdb', 'sdb', 'sdc', 'sdd']]


def test_second_rebalance_and_pretend(ring_cli_builder):
    d = ring_cli_builder
    run(['object.builder', 'rebalance'], d)
    before = file_bytes(os.path.join(d, 'object.builder'))
    rc, out, _ = run(['object.builder', 'rebalance'], d)
    assert rc == 1
    assert out.startswith('No partitions could be reassigned.\nThe time '
                          'between rebalances must be at least '
                          'min_part_hours: 1 hours (')
    assert file_bytes(os.path.join(d, 'object.builder')) == before
    assert run(['object.builder', 'pretend_min_part_hours_passed'], d)[0] == 0
    assert run(['object.builder', 'set_weight', 'd0', '50'], d)[0] == 0
    rc, out, _ = run(['object.builder', 'rebalance'], d)
    assert rc in (0, 1) and out.startswith('Reassigned ')
    rc, out, _ = run(['object.builder', 'rebalance', '--force'], d)
    assert rc in (0, 1)


def test_write_ring(ring_cli_builder):
    d = ring_cli_builder
    run(['object.builder', 'rebalance'], d)
    ring = os.path.join(d, 'object.ring.gz')
    os.unlink(ring)
    assert run(['object.builder', 'set_info', 'd0', '_new meta'], d)[0] == 0
    assert 'obsolete' not in run(['object.builder'], d)[1]
    assert run(['object.builder', 'write_ring'], d)[0] == 0
    assert os.path.exists(ring)
    assert 'is up-to-date' in run(['object.builder'], d)[1]
    assert run(['object.builder', 'set_info', 'd0', '_other'], d)[0] == 0
    assert 'is obsolete' in run(['object.builder'], d)[1]


def snapshot(d):
    files = {}
    for root, _dirs, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            files[os.path.relpath(p, d)] = file_bytes(p)
    return files


def test_dry_run_changes_nothing(ring_cli_builder, tmp_path):
    d = ring_cli_builder
    run(['object.builder', 'rebalance', '--seed', '1'], d)
    run(['object.builder', 'pretend_min_part_hours_passed'], d)
    run(['object.builder', 'set_weight', 'd0', '20'], d)
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'0': 2 ** 30, '1': 2 ** 29, '2': 10 ** 6}))
    before = snapshot(d)
    rc, out, err = run(['object.builder', 'rebalance', '--dry-run', '--seed',
                        '2', '--usage', str(usage)], d)
    assert rc in (0, 1), err
    assert snapshot(d) == before
    assert out.startswith('Dry run: nothing will be written.\n')
    m = re.search(r'Partition replicas that would move: (\d+) of 768', out)
    assert m and int(m.group(1)) > 0
    assert re.search(r'^    d0 -> d\d: \d+$', out, re.M)
    assert 'Estimated bytes to move:' in out
    # the same seed for real moves the same number
    rc, real, _ = run(['object.builder', 'rebalance', '--seed', '2'], d)
    assert re.search(r'Reassigned \d+', real)
    assert snapshot(d) != before


def test_multiple_matches_need_yes(ring_cli_builder):
    d = ring_cli_builder
    path = os.path.join(d, 'object.builder')
    before = file_bytes(path)
    rc, out, err = run(['object.builder', 'set_weight', 'r1', '1'], d)
    assert rc == 2
    assert out.startswith('Matched more than one device:\n')
    assert 'Are you sure you want to update the weight for these 4 ' \
        'devices? (y/N)' in out
    assert err == 'kura-ring: Aborting device modifications\n'
    assert file_bytes(path) == before
    rc, out, _ = run(['object.builder', 'set_weight', 'r1', '1', '-y'], d)
    assert rc == 0 and out.count('weight set to 1.0') == 4


def test_usage(tmp_path):
    rc, out, _ = run([], str(tmp_path))
    assert rc == 0
    for cmd in ('create', 'add', 'remove', 'set_weight', 'set_info',
                'set_region', 'set_zone', 'set_overload', 'set_replicas',
                'set_min_part_hours', 'search', 'list_parts', 'rebalance',
                'dispersion', 'validate', 'write_ring',
                'pretend_min_part_hours_passed'):
        assert 'kura-ring <builder_file> ' + cmd in out
    assert 'Exit codes: 0 = operation successful' in out
    assert run(['--help'], str(tmp_path))[1] == out
    rc, out, _ = run(['x.builder', 'add', '--help'], str(tmp_path))
    assert rc == 0 and out.startswith('kura-ring <builder_file> add\n')
    rc, out, _ = run(['x.builder', 'rebalance', '--help'], str(tmp_path))
    assert rc == 0 and '--dry-run' in out and '--usage' in out


# ---- bad input ---------------------------------------------------------------

BAD = [
    ['create', '8', '3'],
    ['create', '0', '3', '1'],
    ['create', '33', '3', '1'],
    ['create', '8', '0.5', '1'],
    ['create', '8', '3', '-1'],
    ['create', 'x', '3', '1'],
    ['create', '8', 'three', '1'],
    ['create', '8', '3', '1.5'],
    ['add'],
    ['add', 'r1z1-127.0.0.9:6200/sdb'],
    ['add', 'r1z1-127.0.0.9:6200/sdb', '-1'],
    ['add', 'r1z1-127.0.0.9:6200/sdb', 'abc'],
    ['add', 'r1z1-127.0.0.9:6200/sdb', 'nan'],
    ['add', 'r1z1-127.0.0.1:6200/sdb', '10'],
    ['add', 'r1z1-127.0.0.9/sdb', '10'],
    ['add', 'r1z1-127.0.0.9:x/sdb', '10'],
    ['add', 'r1z1-999.0.0.9:6200/sdb', '10'],
    ['add', 'r1-127.0.0.9:6200/sdb', '10'],
    ['add', 'r1z1-127.0.0.9:6200/', '10'],
    ['add', 'r1z1-127.0.0.9:6200/sdx', '10', 'r1z1-127.0.0.9:6200/sdx', '10'],
    ['add', '--region', '1', '--zone', '1', '--ip', '1.2.3.4', '--port',
     '6200', '--weight', '1'],
    ['add', '--region', '1', '--zone', 'one', '--ip', '1.2.3.4', '--port',
     '6200', '--device', 'sdq', '--weight', '1'],
    ['add', '--bogus', '1'],
    ['add', '--region', '1', '--zone', '1', '--ip', '127.0.0.1', '--port',
     '6200', '--device', 'sdb', '--weight', '10'],
    ['remove'],
    ['remove', 'd99'],
    ['remove', 'q'],
    ['set_weight', 'd0'],
    ['set_weight', 'd0', '-5'],
    ['set_weight', 'd0', 'heavy'],
    ['set_weight', 'd0x', '5'],
    ['set_weight', 'd0', '5', 'd1'],
    ['set_region', 'd0', 'x'],
    ['set_zone', 'd0', '-1'],
    ['set_info', 'd0', 'nonsense'],
    ['set_info', 'd0', '127.0.0.2:6200/sdb'],
    ['set_info', 'd0', '1.2.3.999:6200'],
    ['set_overload', 'lots'],
    ['set_overload', '-5%'],
    ['set_overload'],
    ['set_replicas', '0'],
    ['set_replicas', 'x'],
    ['set_min_part_hours', '-1'],
    ['set_min_part_hours', '1.5'],
    ['search'],
    ['search', 'q'],
    ['search', 'z1-1.2.3'],
    ['search', 'z9'],
    ['search', '--port', 'x'],
    ['list_parts', 'd0'],
    ['dispersion'],
    ['validate'],
    ['write_ring'],
    ['rebalance', '--seed', 'x'],
    ['rebalance', '--usage', 'u.json'],
    ['frobnicate'],
]


@pytest.mark.parametrize('args', BAD, ids=lambda a: ' '.join(a) or 'none')
def test_bad_input(ring_cli_builder, args):
    d = ring_cli_builder
    path = os.path.join(d, 'object.builder')
    before = file_bytes(path)
    backups = sorted(os.listdir(os.path.join(d, 'backups')))
    rc, out, err = run(['object.builder'] + args, d)
    assert rc == 2, (out, err)
    assert len(err.splitlines()) == 1, err
    assert err.startswith('kura-ring: ')
    assert file_bytes(path) == before
    assert sorted(os.listdir(os.path.join(d, 'backups'))) == backups
    assert not os.path.exists(os.path.join(d, 'object.ring.gz'))


def test_missing_and_malformed_builder(tmp_path):
    d = str(tmp_path)
    rc, out, err = run(['nothing.builder'], d)
    assert rc == 2
    assert err == 'kura-ring: Ring Builder file does not exist: ' \
        'nothing.builder\n'
    bad = tmp_path / 'bad.builder'
    bad.write_bytes(b'{"part_power": "eight"}')
    for args in (['bad.builder'], ['bad.builder', 'add',
                                   'r1z1-1.2.3.4:6200/sdb', '1']):
        rc, out, err = run(args, d)
        assert rc == 2 and len(err.splitlines()) == 1
        assert bad.read_bytes() == b'{"part_power": "eight"}'


def test_ring_gz_name_selects_builder(ring_cli_builder):
    rc, out, _ = run(['object.ring.gz'], ring_cli_builder)
    assert rc == 0
    assert out.startswith('Note: using object.builder instead of '
                          'object.ring.gz as builder file\n')
