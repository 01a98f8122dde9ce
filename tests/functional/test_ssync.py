"""SSYNC between two real kura-object-server processes.

Objects are written to server A through its HTTP API, then ssync_send()
(run by the test_ssync unit-test binary in its "send" mode, as
kura-replicator calls it) syncs A's suffixes to B. B must then hold the
same files: names, bodies and metadata. Also the receiver's refusals.
Run with Debian's python:
    KURA_BUILD=build-x /usr/bin/python3 -m pytest tests/functional/test_ssync.py
"""
import glob
import hashlib
import json
import os
import subprocess

import pytest

from test_object_server import BUILD, BINARY, Server

SENDER = os.path.join(BUILD, "tests", "unit", "test_ssync")


@pytest.fixture
def pair(tmp_path):
    if not os.access(BINARY, os.X_OK) or not os.access(SENDER, os.X_OK):
        pytest.skip("no %s or %s (set KURA_BUILD)" % (BINARY, SENDER))
    os.makedirs(tmp_path / "a")
    os.makedirs(tmp_path / "b")
    a = Server(str(tmp_path / "a"))
    b = Server(str(tmp_path / "b"))
    yield a, b
    a.stop()
    b.stop()


def obj_hash(name):
    """Swift's hash_path with the servers' prefix and suffix."""
    return hashlib.md5(("pre" + name + "suf").encode()).hexdigest()


def sync(a, b, part, names):
    """ssync_send() from A's partition to B for the suffixes of 'names';
    returns its stats."""
    suffixes = sorted({obj_hash(n)[-3:] for n in names})
    out = subprocess.run(
        [SENDER, "send", os.path.join(a.tmp, "swift.conf"), a.devices, "sda",
         str(part), "127.0.0.1", str(b.port), "sda"] + suffixes,
        stdout=subprocess.PIPE, timeout=120, check=False)
    return json.loads(out.stdout)


def hash_files(srv, part, name):
    h = obj_hash(name)
    d = os.path.join(srv.devices, "sda", "objects", str(part), h[-3:], h)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


# What a replica must agree on: every header but the per-response ones.
PER_RESPONSE = {"date", "connection", "content-length", "x-trans-id"}


def state(srv, path):
    st, h, body = srv.request("GET", path,
                              headers={"X-Backend-Replication": "True"})
    headers = {k.lower(): v for k, v in h.items()
               if k.lower() not in PER_RESPONSE}
    return st, headers, body


def test_object_tombstone_and_meta_reach_the_peer(pair):
    a, b = pair
    body = os.urandom(300000) + b"end"
    st, _, _ = a.request("PUT", "/sda/1/AUTH_a/c/o1", body, {
        "X-Timestamp": "1700000001.00000", "Content-Type": "text/x-kura",
        "X-Object-Meta-Color": "blue", "X-Object-Sysmeta-Thing": "s1",
        "X-Object-Transient-Sysmeta-Tag": "t1",
        "Content-Disposition": "inline", "X-Delete-At": "2100000000"})
    assert st == 201
    assert a.request("PUT", "/sda/1/AUTH_a/c/o2", b"x", {
        "X-Timestamp": "1700000001.00000",
        "Content-Type": "text/plain"})[0] == 201
    assert a.request("DELETE", "/sda/1/AUTH_a/c/o2", None, {
        "X-Timestamp": "1700000002.00000"})[0] == 204
    for srv in (a, b):  # o3 is on both, then A alone gets a POST
        assert srv.request("PUT", "/sda/1/AUTH_a/c/o3", b"3", {
            "X-Timestamp": "1700000001.00000",
            "Content-Type": "text/plain"})[0] == 201
    assert a.request("POST", "/sda/1/AUTH_a/c/o3", None, {
        "X-Timestamp": "1700000003.00000", "X-Object-Meta-Shape": "round",
        "Content-Type": "image/x-new"})[0] == 202

    names = ["/AUTH_a/c/o1", "/AUTH_a/c/o2", "/AUTH_a/c/o3"]
    stats = sync(a, b, 1, names)
    assert stats["rc"] == 0
    assert (stats["sent_data"], stats["sent_ts"], stats["sent_meta"]) == \
        (1, 1, 1)
    assert stats["bytes"] == len(body)
    assert stats["failures"] == 0

    for n in names:
        assert hash_files(a, 1, n)
        assert hash_files(a, 1, n) == hash_files(b, 1, n)
        assert state(a, "/sda/1" + n) == state(b, "/sda/1" + n)
    st, h, got = state(b, "/sda/1/AUTH_a/c/o1")
    assert st == 200 and got == body
    assert h["x-object-sysmeta-thing"] == "s1"
    assert h["x-object-transient-sysmeta-tag"] == "t1"
    assert h["x-delete-at"] == "2100000000"
    assert h["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    st, h, _ = state(b, "/sda/1/AUTH_a/c/o2")
    assert st == 404 and h["x-backend-timestamp"] == "1700000002.00000"
    st, h, _ = state(b, "/sda/1/AUTH_a/c/o3")
    assert h["x-object-meta-shape"] == "round"
    assert h["content-type"] == "image/x-new"
    # the replica's container heard nothing (no X-Container-* was sent,
    # and a replication write sends no update): no async pending either
    assert not glob.glob(os.path.join(b.devices, "sda", "async_pending*"))

    # in sync now: listed, nothing sent
    stats = sync(a, b, 1, names)
    assert stats["rc"] == 0 and stats["hashes"] == 3
    assert stats["sent_data"] + stats["sent_ts"] + stats["sent_meta"] == 0


def test_malformed_inventory_is_refused_and_writes_nothing(pair):
    _, b = pair
    h = obj_hash("/AUTH_a/c/x")
    before = sorted(glob.glob(os.path.join(b.devices, "**"), recursive=True))
    for body in (b"nonsense\n",
                 ("%s 1700000001.00000\n%s\n" % (h, h)).encode(),
                 ("%s 1700000001.00000" % h).encode(),  # no newline
                 ("%s 1700000002.00000 m:1700000001.00000\n" % h).encode()):
        st, _, text = b.request("SSYNC", "/sda/1", body,
                                {"Content-Type": "text/plain"})
        assert st == 400, body
        assert b"Invalid inventory line" in text
    assert sorted(glob.glob(os.path.join(b.devices, "**"),
                            recursive=True)) == before
    st, _, text = b.request("SSYNC", "/sda/1",
                            ("%s 1700000001.00000\n" % h).encode(),
                            {"Content-Type": "text/plain"})
    assert st == 200 and text == ("%s d\n" % h).encode()
    assert b.request("SSYNC", "/nodev/1", b"")[0] == 507


def test_replication_put_of_an_older_timestamp_is_409(pair):
    _, b = pair
    assert b.request("PUT", "/sda/1/AUTH_a/c/w", b"new", {
        "X-Timestamp": "1700000005.00000",
        "Content-Type": "text/plain"})[0] == 201
    st, h, _ = b.request("PUT", "/sda/1/AUTH_a/c/w", b"old", {
        "X-Timestamp": "1700000004.00000", "Content-Type": "text/plain",
        "X-Backend-Replication": "True",
        "X-Backend-Replication-Headers": "Content-Type"})
    assert st == 409
    assert h["X-Backend-Timestamp"] == "1700000005.00000"
    st, _, got = b.request("GET", "/sda/1/AUTH_a/c/w")
    assert st == 200 and got == b"new"
