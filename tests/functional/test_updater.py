"""kura-updater against a real kura-object-server and kura-container-server.

The object server's container updates go to a port where no container
server listens yet, so they wait as async pendings; then the container
server starts there and `kura-updater --once` (on the object server's
config) delivers them. Run with Debian's python:
    KURA_BUILD=build-x /usr/bin/python3 -m pytest tests/functional/test_updater.py
"""
import hashlib
import json
import os
import struct
import subprocess
import time

import pytest

import db_servers
from test_object_server import BUILD, Server, put, ts

UPDATER = os.path.join(BUILD, "replicator", "kura-updater")
KURA_RING = os.path.join(BUILD, "tools", "kura-ring")


@pytest.fixture
def cluster(tmp_path):
    for binary in (UPDATER, db_servers.CONTAINER_SERVER,
                   os.path.join(BUILD, "storage", "kura-object-server")):
        if not os.access(binary, os.X_OK):
            pytest.skip("no %s (set KURA_BUILD)" % binary)
    os.makedirs(str(tmp_path / "obj"))
    cs = db_servers.Server(db_servers.CONTAINER_SERVER, "container", tmp_path)
    srv = Server(str(tmp_path / "obj"))
    with open(srv.conf, "a") as f:
        f.write("\n[object-updater]\nconcurrency = 3\nslowdown = 0\n"
                "node_timeout = 10\nrecon_cache_path = %s/recon\n" % srv.tmp)
    yield srv, cs
    srv.stop()
    cs.stop()


def upd_headers(cs):
    return {"X-Container-Host": "127.0.0.1:%d" % cs.port,
            "X-Container-Device": "sda", "X-Container-Partition": "1",
            "X-Backend-Storage-Policy-Index": "0"}


def run_updater(srv):
    r = subprocess.run([UPDATER, "--once", srv.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    assert r.returncode == 0, r.stdout


def recon(srv):
    with open(os.path.join(srv.tmp, "recon", "object.recon")) as f:
        return json.load(f)


def pendings(srv):
    return sorted(p for p in srv.files("async_pending/*/*")
                  if not os.path.basename(p).startswith("."))


def listing(cs):
    st, _, body = cs.request("GET", "/sda/1/a/c", query={"format": "json"})
    assert st == 200
    return {o["name"]: o for o in json.loads(body)}


def test_pendings_reach_the_container_once_it_is_up(cluster):
    srv, cs = cluster
    h = upd_headers(cs)
    assert put(srv, "/sda/1/a/c/o1", b"old", **h)[0] == 201
    assert put(srv, "/sda/1/a/c/o1", b"newer", **h)[0] == 201
    assert put(srv, "/sda/2/a/c/o2", b"22", **h)[0] == 201
    assert put(srv, "/sda/3/a/c/o3", b"333", **h)[0] == 201
    assert srv.request("DELETE", "/sda/3/a/c/o3",
                       headers=dict(h, **{"X-Timestamp": ts()}))[0] == 204
    assert len(pendings(srv)) == 5
    suffix_dir = os.path.dirname(pendings(srv)[0])
    # a stray the object server never wrote, and a temp file it is writing
    stray = os.path.join(suffix_dir, "f" * 32 + "-" + ts())
    with open(stray, "w") as f:
        f.write("{not json")
    temp = os.path.join(suffix_dir, ".tmp-being-written")
    open(temp, "w").close()

    # container server still down: the newest of each object is kept
    run_updater(srv)
    assert len(pendings(srv)) == 3
    assert os.path.exists(temp)
    assert not os.path.exists(stray)
    assert os.path.exists(os.path.join(srv.devices, "sda", "quarantined",
                                       "objects", os.path.basename(stray)))
    r = recon(srv)
    assert r["async_pending"] == 3
    assert r["object_updater_stats"] == {
        "successes": 0, "failures": 3, "quarantines": 1, "unlinks": 2}
    assert r["object_updater_sweep"] >= 0
    assert r["async_pending_last"] <= time.time()
    assert "quarantined" in srv.log()

    cs.start()
    assert cs.request("PUT", "/sda/1/a/c",
                      {"X-Timestamp": db_servers.ts(1)})[0] == 201
    run_updater(srv)
    assert pendings(srv) == []
    objs = listing(cs)
    assert sorted(objs) == ["o1", "o2"]
    assert objs["o1"]["bytes"] == 5 and objs["o2"]["bytes"] == 2
    r = recon(srv)
    assert r["async_pending"] == 0
    assert r["object_updater_stats"]["successes"] == 3
    assert os.path.exists(temp)


def test_forever_mode_retries_until_delivered(cluster):
    srv, cs = cluster
    with open(srv.conf, "a") as f:
        f.write("interval = 0.2\n")
    assert put(srv, "/sda/1/a/c/o", b"x", **upd_headers(cs))[0] == 201
    assert len(pendings(srv)) == 1
    proc = subprocess.Popen([UPDATER, srv.conf])
    try:
        cs.start()
        assert cs.request("PUT", "/sda/1/a/c",
                          {"X-Timestamp": db_servers.ts(1)})[0] == 201
        deadline = time.time() + 120
        while pendings(srv) and time.time() < deadline:
            assert proc.poll() is None
            time.sleep(0.1)
        assert pendings(srv) == []
        assert list(listing(cs)) == ["o"]
    finally:
        proc.terminate()
        proc.wait(30)


def test_malformed_pendings_are_moved_aside(cluster):
    srv, cs = cluster
    assert put(srv, "/sda/1/a/c/o", b"x", **upd_headers(cs))[0] == 201
    path, = pendings(srv)
    with open(path) as f:
        good = json.load(f)
    suffix_dir = os.path.dirname(path)
    bad = {
        "mismatch": dict(good, devices="sda,sdb"),
        "no-hosts": {k: v for k, v in good.items() if k != "hosts"},
        "bad-op": dict(good, op="POST"),
        "header-crlf": dict(good, headers={"X-Size": "1\r\nX-Evil: 1"}),
        "not-object": [1, 2],
    }
    names = []
    for i, doc in enumerate(bad.values()):
        name = "%032x-%s" % (i + 1, ts())
        names.append(name)
        with open(os.path.join(suffix_dir, name), "w") as f:
            json.dump(doc, f)
    big = "%032x-%s" % (99, ts())
    with open(os.path.join(suffix_dir, big), "w") as f:
        f.write(" " * (1 << 20))
    names.append(big)
    cs.start()
    assert cs.request("PUT", "/sda/1/a/c",
                      {"X-Timestamp": db_servers.ts(1)})[0] == 201
    run_updater(srv)
    assert pendings(srv) == []
    q = os.path.join(srv.devices, "sda", "quarantined", "objects")
    assert sorted(os.listdir(q)) == sorted(names)
    r = recon(srv)["object_updater_stats"]
    assert (r["successes"], r["quarantines"]) == (1, len(names))
    assert list(listing(cs)) == ["o"]


def test_the_container_ring_wins_over_the_nodes_named(cluster):
    """As Swift's updater: the container's primaries in the current ring,
    not the (maybe moved) replicas the proxy named at write time."""
    srv, cs = cluster
    if not os.access(KURA_RING, os.X_OK):
        pytest.skip("no %s" % KURA_RING)
    for args in (["create", "4", "1", "1"],
                 ["add", "r1z1-127.0.0.1:%d/sda" % cs.port, "100"],
                 ["rebalance"]):
        r = subprocess.run([KURA_RING, "container.builder"] + args,
                           cwd=srv.tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        assert r.returncode in (0, 1), r.stdout  # 1: rebalance warnings
    assert os.path.exists(os.path.join(srv.tmp, "container.ring.gz"))
    # the object server's swift.conf: prefix "pre", suffix "suf"
    digest = hashlib.md5(b"pre/a/csuf").digest()
    part = struct.unpack(">I", digest[:4])[0] >> (32 - 4)
    gone = {"X-Container-Host": "127.0.0.1:1", "X-Container-Device": "old",
            "X-Container-Partition": "9"}
    assert put(srv, "/sda/1/a/c/o", b"x", **gone)[0] == 201
    assert len(pendings(srv)) == 1
    cs.start()
    path = "/sda/%d/a/c" % part
    assert cs.request("PUT", path, {"X-Timestamp": db_servers.ts(1)})[0] == 201
    run_updater(srv)
    assert pendings(srv) == []
    st, _, body = cs.request("GET", path, query={"format": "json"})
    assert st == 200 and [o["name"] for o in json.loads(body)] == ["o"]
