"""Interop: Kura and Swift 2.30 read each other's ring files and agree on
every placement.

(a) Rings written by Debian's swift-ring-builder: for 10,000 random names
    per ring (many non-ASCII), ``kura get-nodes --batch`` and Swift's
    ``Ring`` give the same partition, primaries and first 6 handoffs.
(b) Rings written by Kura: Swift's ``RingData.load``/``Ring`` read them and
    agree the same way. Kura writes through ``kura get-nodes --rewrite``
    (ringfile_write; the result must hold exactly the bytes of Swift's
    file once decompressed, with Swift's gzip header) and,
    once it is built, through the ring builder ``kura-ring``.

Both sides hash with the prefix and suffix of one swift.conf in a temp dir.
Needs python3-swift (Debian's /usr/bin/python3) and the ``kura`` binary of
$KURA_BUILD (default <repo>/build).
"""
import os
import shutil
import subprocess
import sys
import zlib

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import placement  # noqa: E402

N_PATHS = int(os.environ.get("KURA_INTEROP_PATHS", "10000"))


def _zones(regions, zones, devs_per_zone, weight=lambda i: 100.0):
    devs, i = [], 0
    for r in range(1, regions + 1):
        for z in range(1, zones + 1):
            for d in range(devs_per_zone):
                ip = "10.%d.%d.%d" % (r, z, 1 + d // 2)
                devs.append((r, z, ip, "sd" + "abcdefgh"[d], weight(i)))
                i += 1
    return devs


# name -> (part power, replicas, devices)
LAYOUTS = {
    "4dev-1zone-pp10": (10, 3, _zones(1, 1, 4)),
    "12dev-3zone-pp12-frac": (12, 2.5, _zones(1, 3, 4)),
    "2region-3zone-4dev-pp14": (14, 3, _zones(2, 3, 4)),
    "2region-pp11-frac": (11, 2.5, _zones(2, 3, 4)),
    "unequal-weights-pp16": (16, 3, [
        (1, 1, "10.0.0.1", "sda", 100.0), (1, 1, "10.0.0.1", "sdb", 200.0),
        (1, 2, "10.0.0.2", "sda", 100.0), (1, 2, "10.0.0.2", "sdb", 50.0),
        (1, 3, "10.0.0.3", "sda", 300.0), (1, 3, "10.0.0.4", "sda", 100.0),
        (1, 3, "fe80::1", "sdc", 100.0),
        (1, 2, "host.example.com", "sdd", 80.0),
    ]),
}


@pytest.fixture(scope="module")
def kura(kura_build):
    exe = os.path.join(kura_build, "tools", "kura")
    if not os.access(exe, os.X_OK):
        pytest.fail("kura is not built: %s (set KURA_BUILD)" % exe)
    return exe


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("ring-interop"))


@pytest.fixture(scope="module")
def swift_conf(workdir):
    return placement.write_swift_conf(workdir, "kura-interop-prefix",
                                      "S3cret_suffix")


@pytest.fixture(scope="module")
def swift_rings(workdir):
    """Every layout built once by swift-ring-builder."""
    rings = {}
    for name, (power, replicas, devs) in LAYOUTS.items():
        d = os.path.join(workdir, "swift-" + name)
        os.makedirs(d)
        rings[name] = placement.build_ring(
            [placement.SWIFT_RING_BUILDER], d, "object", power, replicas, devs)
    return rings


def _seed(layout):
    """A per-layout seed that is the same in every run (str hash is not)."""
    return zlib.crc32(layout.encode()) & 0xffff


def _agree(kura, conf, ring, seed):
    paths = placement.random_paths(N_PATHS, seed)
    mine = placement.kura_placements(kura, conf, ring, paths)
    theirs = placement.swift_placements(conf, ring, paths)
    diff = placement.first_difference(mine, theirs)
    assert diff is None, diff
    return theirs


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_kura_reads_swift_rings(kura, swift_conf, swift_rings, layout):
    answers = _agree(kura, swift_conf, swift_rings[layout],
                     seed=_seed(layout))
    # the comparison means something: handoffs were asked for and found
    assert any(a["handoffs"] for a in answers)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_swift_reads_rings_kura_rewrote(kura, swift_conf, swift_rings,
                                        workdir, layout):
    src = swift_rings[layout]
    d = os.path.join(workdir, "rewrite-" + layout)
    os.makedirs(d)
    dst = os.path.join(d, os.path.basename(src))
    subprocess.run([kura, "get-nodes", "--rewrite", src, dst], check=True)
    # same ring, same file name: the stream Swift's RingData.save writes
    # (sorted JSON, same arrays) under the same gzip header (mtime
    # 1300507380, the name); only the deflate level differs (doc/ring-format)
    with open(src, "rb") as a, open(dst, "rb") as b:
        theirs, ours = a.read(), b.read()
    # magic, method, flags, mtime; the OS byte; the file name (byte 8, XFL,
    # only says which deflate level was used)
    assert ours[:8] == theirs[:8] and ours[9] == theirs[9]
    name_end = theirs.index(b"\0", 10)
    assert ours[10:name_end + 1] == theirs[10:name_end + 1]
    assert (zlib.decompress(ours, 16 + zlib.MAX_WBITS) ==
            zlib.decompress(theirs, 16 + zlib.MAX_WBITS))
    _agree(kura, swift_conf, dst, seed=1 + _seed(layout))


def _kura_ring(kura_build):
    exe = os.environ.get("KURA_RING") or os.path.join(kura_build, "tools",
                                                      "kura-ring")
    return exe if os.access(exe, os.X_OK) else None


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_swift_reads_kura_ring_builder_rings(kura, kura_build, swift_conf,
                                             workdir, layout):
    exe = _kura_ring(kura_build)
    if not exe:
        pytest.skip("kura-ring is not built yet (%s/tools/kura-ring)"
                    % kura_build)
    power, replicas, devs = LAYOUTS[layout]
    d = os.path.join(workdir, "kura-ring-" + layout)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    ring = placement.build_ring([exe], d, "object", power, replicas, devs)
    # Swift must load it (RingData.load inside Ring) and agree with Kura
    _agree(kura, swift_conf, ring, seed=2 + _seed(layout))
