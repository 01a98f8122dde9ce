"""kura-auditor against a real kura-object-server.

Objects are written through a lone object server (test_object_server's
Server: temp devices, mount_check off), damaged on disk, and audited with
`kura-auditor --once` on the same object-server.conf. Run with Debian's
python:
    KURA_BUILD=build-x /usr/bin/python3 -m pytest tests/functional/test_auditor.py
"""
import glob
import http.client
import json
import os
import subprocess
import time

import pytest

from test_object_server import BUILD, Server, put

AUDITOR = os.path.join(BUILD, "replicator", "kura-auditor")


@pytest.fixture
def srv(tmp_path):
    for binary in (AUDITOR, os.path.join(BUILD, "storage",
                                         "kura-object-server")):
        if not os.access(binary, os.X_OK):
            pytest.skip("no %s (set KURA_BUILD)" % binary)
    s = Server(str(tmp_path))
    yield s
    s.stop()


def add_auditor_section(srv, **opts):
    opts.setdefault("files_per_second", 0)
    opts.setdefault("recon_cache_path", os.path.join(srv.tmp, "recon"))
    with open(srv.conf, "a") as f:
        f.write("\n[object-auditor]\n")
        for k, v in opts.items():
            f.write("%s = %s\n" % (k, v))


def run_auditor(srv, *args):
    r = subprocess.run([AUDITOR, "--once"] + list(args) + [srv.conf],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    assert r.returncode == 0, r.stdout
    return r


def recon(srv):
    with open(os.path.join(srv.tmp, "recon", "object.recon")) as f:
        return json.load(f)


def data_file(srv, part):
    path, = srv.files("objects/%d/*/*/*.data" % part)
    return path


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def test_bit_rot_is_quarantined_and_the_suffix_dirtied(srv):
    body = b"hello auditor " * 100
    assert put(srv, "/sda/1/a/c/good", body)[0] == 201
    assert put(srv, "/sda/2/a/c/rot", body)[0] == 201
    assert put(srv, "/sda/3/a/c/badmeta", body)[0] == 201
    # a tombstone alone (Swift answers 404 and still writes it)
    assert srv.request("DELETE", "/sda/4/a/c/gone",
                       headers={"X-Timestamp": "%.5f" % time.time()})[0] == 404
    assert srv.files("objects/4/*/*/*.ts")
    rot = data_file(srv, 2)
    flip_byte(rot, 7)
    badmeta = data_file(srv, 3)
    os.setxattr(badmeta, "user.kura.meta", b"garbage")
    add_auditor_section(srv)
    # hashes.invalid may hold the writes' marks already: start clean
    for inv in srv.files("objects/*/hashes.invalid"):
        os.unlink(inv)

    run_auditor(srv)

    assert srv.request("GET", "/sda/1/a/c/good")[2] == body
    for path in (rot, badmeta):
        hash_dir = os.path.dirname(path)
        suffix_dir = os.path.dirname(hash_dir)
        part_dir = os.path.dirname(suffix_dir)
        assert not os.path.exists(hash_dir)
        q = os.path.join(srv.devices, "sda", "quarantined", "objects",
                         os.path.basename(hash_dir))
        assert os.listdir(q) == [os.path.basename(path)]
        with open(os.path.join(part_dir, "hashes.invalid")) as f:
            assert os.path.basename(suffix_dir) in f.read().split()
    assert srv.request("GET", "/sda/2/a/c/rot")[0] == 404
    stats = recon(srv)["object_auditor_stats_ALL"]
    assert stats["passes"] == 1
    assert stats["quarantined"] == 2
    assert stats["errors"] == 0
    assert stats["bytes_processed"] >= 2 * len(body)
    assert stats["start_time"] <= time.time()
    assert recon(srv)["object_auditor_last"] >= stats["start_time"]
    assert "failed audit and was quarantined" in srv.log()

    # a second pass finds nothing more, and counts afresh
    run_auditor(srv)
    stats = recon(srv)["object_auditor_stats_ALL"]
    assert (stats["passes"], stats["quarantined"]) == (1, 0)


def test_get_of_a_rotten_small_object_never_returns_it_whole(srv):
    body = b"0123456789" * 3
    assert put(srv, "/sda/1/a/c/small", body)[0] == 201
    flip_byte(data_file(srv, 1), 3)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.request("GET", "/sda/1/a/c/small")
    resp = conn.getresponse()
    try:
        got = resp.read()
    except http.client.IncompleteRead as e:
        got = e.partial
    conn.close()
    assert len(got) < len(body)
    assert srv.files("quarantined/objects/*")
    assert srv.request("GET", "/sda/1/a/c/small")[0] == 404


def test_only_the_devices_named_and_unmounted_ones_skipped(srv):
    os.makedirs(os.path.join(srv.devices, "sdb"))
    assert put(srv, "/sda/1/a/c/o", b"x" * 100)[0] == 201
    assert put(srv, "/sdb/1/a/c/o", b"y" * 100)[0] == 201
    flip_byte(glob.glob(os.path.join(srv.devices, "sdb", "objects", "1",
                                     "*", "*", "*.data"))[0], 0)
    add_auditor_section(srv)
    run_auditor(srv, "--devices", "sda")
    assert recon(srv)["object_auditor_stats_ALL"]["quarantined"] == 0
    run_auditor(srv, "--devices", "sdb")
    assert recon(srv)["object_auditor_stats_ALL"]["quarantined"] == 1
    # mount_check on: temp dirs are not mount points, nothing is read
    flip_byte(data_file(srv, 1), 0)
    with open(srv.conf, "a") as f:
        f.write("mount_check = true\n")
    run_auditor(srv)
    stats = recon(srv)["object_auditor_stats_ALL"]
    assert (stats["passes"], stats["quarantined"]) == (0, 0)
    assert os.path.exists(data_file(srv, 1))
    assert "not mounted" in srv.log()


def test_files_per_second_paces_the_pass(srv):
    for i in range(9):
        assert put(srv, "/sda/%d/a/c/o%d" % (i, i), b"z")[0] == 201
    add_auditor_section(srv, files_per_second=4)
    begin = time.monotonic()
    run_auditor(srv)
    # nine files at four a second take two seconds at least, however idle
    # or busy the machine (only a lower bound is certain)
    assert time.monotonic() - begin >= 2.0
    assert recon(srv)["object_auditor_stats_ALL"]["passes"] == 9


def test_bad_config_stops_startup(srv):
    add_auditor_section(srv, files_per_second="many")
    r = subprocess.run([AUDITOR, "--once", srv.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert r.returncode == 1
    assert b"files_per_second" in r.stdout
    r = subprocess.run([AUDITOR, "--bogus", srv.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert r.returncode == 2 and b"usage" in r.stdout


def test_reclaimable_tombstone_gets_its_suffix_rehashed(srv):
    """A tombstone older than reclaim_age in a suffix no write touches:
    the auditor marks the suffix in hashes.invalid, so the replicator's
    next REPLICATE rehashes it and reclaims the tombstone (Swift's auditor
    does the same). A young tombstone is left alone."""
    old = "%.5f" % (time.time() - 3600)
    young = "%.5f" % time.time()
    assert srv.request("DELETE", "/sda/5/a/c/old",
                       headers={"X-Timestamp": old})[0] == 404
    assert srv.request("DELETE", "/sda/6/a/c/young",
                       headers={"X-Timestamp": young})[0] == 404
    # what the writes marked is consumed, as a replicator's rehash would
    for part in (5, 6):
        assert srv.request("REPLICATE", "/sda/%d" % part)[0] == 200
        assert os.path.getsize(srv.files("objects/%d/hashes.invalid" %
                                         part)[0]) == 0
    add_auditor_section(srv, reclaim_age=600)
    run_auditor(srv)
    ts_old, = srv.files("objects/5/*/*/*.ts")
    suffix = ts_old.split("/")[-3]
    with open(srv.files("objects/5/hashes.invalid")[0]) as f:
        assert f.read().split() == [suffix]
    assert os.path.getsize(srv.files("objects/6/hashes.invalid")[0]) == 0
