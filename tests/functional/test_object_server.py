"""kura-object-server against Swift 2.30's object-server API.

A real daemon on 127.0.0.1 with temp directories as devices (mount_check
off), driven with http.client and raw sockets. The build comes from
$KURA_BUILD (default <repo>/build). Run with Debian's python:
    KURA_BUILD=build-obj /usr/bin/python3 -m pytest tests/functional/test_object_server.py
"""
import glob
import hashlib
import importlib.util
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from swift_oracle import SwiftOracle

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BUILD = os.environ.get("KURA_BUILD", os.path.join(REPO, "build"))
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)
BINARY = os.path.join(BUILD, "storage", "kura-object-server")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, tmp):
        self.tmp = tmp
        self.devices = os.path.join(tmp, "node")
        os.makedirs(os.path.join(self.devices, "sda"))
        with open(os.path.join(tmp, "swift.conf"), "w") as f:
            f.write("[swift-hash]\nswift_hash_path_prefix = pre\n"
                    "swift_hash_path_suffix = suf\n")
        self.port = free_port()
        self.conf = os.path.join(tmp, "object-server.conf")
        with open(self.conf, "w") as f:
            f.write("[DEFAULT]\ndevices = %s\nmount_check = false\n"
                    "bind_ip = 127.0.0.1\nbind_port = %d\nswift_dir = %s\n"
                    "log_file = %s/log\n\n[app:object-server]\n"
                    "conn_timeout = 0.5\nnode_timeout = 2\n"
                    % (self.devices, self.port, tmp, tmp))
        self.proc = subprocess.Popen([BINARY, self.conf])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, "daemon exited"
                time.sleep(0.05)
        raise RuntimeError("daemon did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def request(self, method, path, body=None, headers=None, chunked=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {},
                     encode_chunked=chunked)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.headers, data

    def log(self):
        with open(os.path.join(self.tmp, "log")) as f:
            return f.read()

    def files(self, pattern):
        return glob.glob(os.path.join(self.devices, "sda", pattern),
                         recursive=True)


@pytest.fixture
def srv(tmp_path):
    if not os.access(BINARY, os.X_OK):
        pytest.skip("no %s (set KURA_BUILD)" % BINARY)
    s = Server(str(tmp_path))
    yield s
    s.stop()


_last = [0.0]


def ts(offset=0.0):
    """A fresh X-Timestamp, strictly increasing within the run."""
    t = max(time.time(), _last[0] + 0.001)
    _last[0] = t
    return "%.5f" % (t + offset)


def put(srv, path, body=b"hello world", **extra):
    headers = {"X-Timestamp": ts(), "Content-Type": "text/plain"}
    headers.update(extra)
    return srv.request("PUT", path, body, headers)


P = "/sda/1/AUTH_a/c/o/with/slashes"
Q = "/sda/2/AUTH_a/c/q"


def test_put_get_head_delete_round_trip(srv):
    body = b"hello world"
    etag = hashlib.md5(body).hexdigest()
    t = ts()
    st, h, _ = srv.request("PUT", P, body, {
        "X-Timestamp": t, "Content-Type": "text/plain",
        "X-Object-Meta-Color": "blue", "X-Object-Sysmeta-Thing": "s",
        "Content-Disposition": "inline", "X-Other": "dropped",
        "X-Trans-Id": "tx0123"})
    assert st == 201
    assert h["ETag"] == '"%s"' % etag
    assert "X-Trans-Id" not in h  # not echoed, as Swift
    st, h, data = srv.request("GET", P)
    assert st == 200 and data == body
    assert h["Content-Type"] == "text/plain"
    assert h["Content-Length"] == "11"
    assert h["ETag"] == '"%s"' % etag
    assert h["X-Object-Meta-Color"] == "blue"
    assert h["X-Object-Sysmeta-Thing"] == "s"
    assert h["Content-Disposition"] == "inline"
    assert "X-Other" not in h
    assert h["X-Timestamp"] == t
    assert h["X-Backend-Timestamp"] == t
    assert h["X-Backend-Data-Timestamp"] == t
    assert "Accept-Ranges" not in h  # Swift's proxy adds it, not the server
    assert h["Last-Modified"] == time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(int(float(t)) + 1))
    st, h, data = srv.request("HEAD", P)
    assert st == 200 and data == b"" and h["Content-Length"] == "11"
    assert h["X-Object-Meta-Color"] == "blue"
    assert len(srv.files("objects/**/*.data")) == 1
    td = ts()
    st, h, _ = srv.request("DELETE", P, headers={"X-Timestamp": td})
    assert st == 204 and h["X-Backend-Timestamp"] == td
    st, h, _ = srv.request("GET", P)
    assert st == 404 and h["X-Backend-Timestamp"] == td
    assert srv.files("objects/**/*.data") == []
    assert len(srv.files("objects/**/*.ts")) == 1
    assert "PUT %s 201" % P in srv.log()
    assert "tx0123" in srv.log()


def test_post_replaces_user_metadata_keeps_sysmeta(srv):
    put(srv, P, **{"X-Object-Meta-A": "1", "X-Object-Sysmeta-S": "keep"})
    st, _, _ = srv.request("POST", P, headers={
        "X-Timestamp": ts(), "X-Object-Meta-B": "2",
        "X-Object-Sysmeta-S": "ignored"})
    assert st == 202
    st, h, data = srv.request("GET", P)
    assert st == 200 and data == b"hello world"
    assert h["X-Object-Meta-B"] == "2"
    assert "X-Object-Meta-A" not in h
    assert h["X-Object-Sysmeta-S"] == "keep"
    assert len(srv.files("objects/**/*.meta")) == 1
    st, _, _ = srv.request("POST", "/sda/1/a/c/missing",
                           headers={"X-Timestamp": ts()})
    assert st == 404


def test_stale_timestamps_conflict(srv):
    t = ts()
    assert put(srv, P, **{"X-Timestamp": t})[0] == 201
    st, h, _ = put(srv, P, **{"X-Timestamp": t})
    assert st == 409 and h["X-Backend-Timestamp"] == t
    older = "%.5f" % (float(t) - 10)
    assert put(srv, P, **{"X-Timestamp": older})[0] == 409
    st, h, _ = srv.request("DELETE", P, headers={"X-Timestamp": older})
    assert st == 409 and h["X-Backend-Timestamp"] == t
    st, h, _ = srv.request("POST", P, headers={"X-Timestamp": t})
    assert st == 409 and h["X-Backend-Timestamp"] == t
    assert srv.request("GET", P)[0] == 200
    td = ts()
    assert srv.request("DELETE", P, headers={"X-Timestamp": td})[0] == 204
    # a PUT older than the tombstone loses too
    st, h, _ = put(srv, P, **{"X-Timestamp": t})
    assert st == 409 and h["X-Backend-Timestamp"] == td


def test_bad_etag_422_leaves_nothing(srv):
    st, _, _ = put(srv, P, ETag='"%s"' % ("0" * 32))
    assert st == 422
    assert srv.files("objects/**/*.data") == []
    assert os.listdir(os.path.join(srv.devices, "sda", "tmp")) == []
    assert srv.request("GET", P)[0] == 404
    good = hashlib.md5(b"hello world").hexdigest()
    assert put(srv, P, ETag=good)[0] == 201


def raw(srv, head, body=b"", read=True):
    s = socket.create_connection(("127.0.0.1", srv.port), 10)
    s.sendall(head.encode() + body)
    data = b""
    if read:
        s.settimeout(5)
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return s, data


def test_length_required(srv):
    s, data = raw(srv, "PUT %s HTTP/1.1\r\nHost: x\r\nX-Timestamp: %s\r\n"
                       "Content-Type: text/plain\r\n\r\n" % (P, ts()))
    s.close()
    assert data.startswith(b"HTTP/1.1 411"), data


def test_bad_requests_400(srv):
    st, _, data = srv.request("PUT", P, b"x", {"Content-Type": "text/plain"})
    assert st == 400 and data == b"Missing X-Timestamp header"
    st, _, data = srv.request("DELETE", P, headers={"X-Timestamp": "junk"})
    assert st == 400 and data == b"Invalid X-Timestamp header"
    st, _, data = srv.request("GET", "/sda/1/a/c")
    assert st == 400 and data.startswith(b"Invalid path")
    st, _, data = srv.request("GET", "/sda/x1/a/c/o")
    assert st == 400 and data.startswith(b"Invalid partition")
    st, _, data = srv.request("PUT", P, b"x", {"X-Timestamp": ts()})
    assert st == 400 and data == b"No content type"
    st, _, data = put(srv, P, **{"X-Delete-At": str(int(time.time()) - 5)})
    assert st == 400 and data == b"X-Delete-At in past"
    assert srv.request("GET", "/sda/1/a/c/%FF")[0] == 412
    assert srv.request("COPY", P)[0] == 405


def test_missing_device_507_and_nothing_created(srv):
    st, _, _ = put(srv, "/sdz/1/a/c/o")
    assert st == 507
    assert srv.request("GET", "/sdz/1/a/c/o")[0] == 507
    assert not os.path.exists(os.path.join(srv.devices, "sdz"))


def test_404_versus_tombstone(srv):
    st, h, _ = srv.request("GET", "/sda/1/a/c/never")
    assert st == 404 and "X-Backend-Timestamp" not in h
    td = ts()
    st, h, _ = srv.request("DELETE", "/sda/1/a/c/never",
                           headers={"X-Timestamp": td})
    assert st == 404 and h["X-Backend-Timestamp"] == td
    st, h, _ = srv.request("HEAD", "/sda/1/a/c/never")
    assert st == 404 and h["X-Backend-Timestamp"] == td


def test_expired_object_is_404(srv):
    at = int(time.time()) + 2
    assert put(srv, P, **{"X-Delete-At": str(at)})[0] == 201
    assert srv.request("GET", P)[0] == 200
    st, h, _ = srv.request("GET", P, headers={"X-Timestamp": str(at + 1)})
    assert st == 404 and "X-Backend-Timestamp" in h


def test_ranges(srv):
    body = bytes(range(256)) * 4
    put(srv, P, body)
    st, h, data = srv.request("GET", P, headers={"Range": "bytes=10-19"})
    assert st == 206 and data == body[10:20]
    assert h["Content-Range"] == "bytes 10-19/1024"
    st, h, data = srv.request("GET", P, headers={"Range": "bytes=-5"})
    assert st == 206 and data == body[-5:]
    st, h, data = srv.request("GET", P, headers={"Range": "bytes=1000-"})
    assert st == 206 and data == body[1000:]
    st, h, data = srv.request("GET", P, headers={"Range": "bytes=0-1,10-12"})
    assert st == 206
    ctype = h["Content-Type"]
    assert ctype.startswith("multipart/byteranges;boundary=")
    b = ctype.split("=", 1)[1].encode()
    assert len(b) == 32
    expect = (b"--" + b + b"\r\nContent-Type: text/plain\r\n"
              b"Content-Range: bytes 0-1/1024\r\n\r\n" + body[0:2] +
              b"\r\n--" + b + b"\r\nContent-Type: text/plain\r\n"
              b"Content-Range: bytes 10-12/1024\r\n\r\n" + body[10:13] +
              b"\r\n--" + b + b"--")
    assert data == expect
    assert int(h["Content-Length"]) == len(expect)
    st, h, _ = srv.request("GET", P, headers={"Range": "bytes=2000-"})
    assert st == 416 and h["Content-Range"] == "bytes */1024"
    st, h, _ = srv.request("GET", P, headers={"Range": "bytes=-0"})
    assert st == 416
    assert srv.request("GET", P)[0] == 200   # still serving
    # a syntactically bad header is ignored
    st, _, data = srv.request("GET", P, headers={"Range": "bytes=5-3"})
    assert st == 200 and data == body


def test_conditionals(srv):
    put(srv, P)
    etag = hashlib.md5(b"hello world").hexdigest()
    q = '"%s"' % etag
    assert srv.request("GET", P, headers={"If-Match": q})[0] == 200
    assert srv.request("GET", P, headers={"If-Match": '"nope"'})[0] == 412
    assert srv.request("GET", P, headers={"If-Match": "*"})[0] == 200
    st, h, data = srv.request("GET", P, headers={"If-None-Match": q})
    assert st == 304 and data == b"" and h["ETag"] == q
    assert srv.request("GET", P, headers={"If-None-Match": "*"})[0] == 304
    assert srv.request("HEAD", P, headers={"If-None-Match": "x"})[0] == 200
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    past = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert srv.request("GET", P,
                       headers={"If-Modified-Since": future})[0] == 304
    assert srv.request("GET", P, headers={"If-Modified-Since": past})[0] == 200
    assert srv.request("GET", P,
                       headers={"If-Unmodified-Since": past})[0] == 412
    assert srv.request("GET", P,
                       headers={"If-Unmodified-Since": future})[0] == 200
    assert srv.request("GET", "/sda/1/a/c/none",
                       headers={"If-Match": "*"})[0] == 412
    # If-None-Match: * on PUT refuses to overwrite
    assert put(srv, P, **{"If-None-Match": "*"})[0] == 412


def test_chunked_put(srv):
    body = b"".join(b"chunk%03d" % i for i in range(500))

    def gen():
        for i in range(0, len(body), 333):
            yield body[i:i + 333]
    st, h, _ = srv.request("PUT", P, gen(), {
        "X-Timestamp": ts(), "Content-Type": "a/b",
        "Transfer-Encoding": "chunked"}, chunked=True)
    assert st == 201
    assert h["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    st, h, data = srv.request("GET", P)
    assert data == body and h["Content-Length"] == str(len(body))


def test_expect_100_continue(srv):
    # refused before the body: the client never gets "100 Continue"
    head = ("PUT %s HTTP/1.1\r\nHost: x\r\nX-Timestamp: %s\r\n"
            "Content-Type: text/plain\r\nContent-Length: 1000000\r\n"
            "Expect: 100-continue\r\n\r\n")
    s, data = raw(srv, head % (P.replace("/sda/", "/sdz/"), ts()))
    s.close()
    assert data.startswith(b"HTTP/1.1 507"), data
    t = ts()
    put(srv, P, **{"X-Timestamp": t})
    s, data = raw(srv, head % (P, t))
    s.close()
    assert data.startswith(b"HTTP/1.1 409"), data
    # accepted: 100 Continue, then the body, then 201
    s, data = raw(srv, (head % (P, ts())).replace("1000000", "5"))
    assert data.startswith(b"HTTP/1.1 100"), data
    s.sendall(b"abcde")
    data = s.recv(65536)
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    s.close()
    assert b"201 Created" in data, data


def test_aborted_upload_leaves_nothing(srv):
    head = ("PUT %s HTTP/1.1\r\nHost: x\r\nX-Timestamp: %s\r\n"
            "Content-Type: text/plain\r\nContent-Length: 10000000\r\n\r\n"
            % (P, ts()))
    s, _ = raw(srv, head, b"x" * 300000, read=False)
    time.sleep(0.3)
    tmp = os.path.join(srv.devices, "sda", "tmp")
    assert len(os.listdir(tmp)) == 1   # the upload is in progress
    s.close()
    deadline = time.time() + 5
    while os.listdir(tmp) and time.time() < deadline:
        time.sleep(0.05)
    assert os.listdir(tmp) == []
    assert srv.files("objects/**/*.data") == []
    assert srv.request("GET", P)[0] == 404
    time.sleep(0.2)
    assert " 499 " in srv.log()


class FakeContainer(http.server.BaseHTTPRequestHandler):
    seen = []

    def handle_any(self):
        FakeContainer.seen.append((self.command, self.path,
                                   dict(self.headers)))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_DELETE = handle_any

    def log_message(self, *args):
        pass


def test_container_update_and_async_pending(srv):
    FakeContainer.seen = []
    cs = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeContainer)
    threading.Thread(target=cs.serve_forever, daemon=True).start()
    try:
        host = "127.0.0.1:%d" % cs.server_address[1]
        upd = {"X-Container-Host": host, "X-Container-Device": "cd1",
               "X-Container-Partition": "7", "X-Trans-Id": "txupd",
               "X-Backend-Storage-Policy-Index": "0"}
        t = ts()
        assert put(srv, "/sda/1/a/c/o%20o", b"12345",
                   **dict(upd, **{"X-Timestamp": t}))[0] == 201
        (method, path, h), = FakeContainer.seen
        assert (method, path) == ("PUT", "/cd1/7/a/c/o%20o")
        assert h["X-Size"] == "5"
        assert h["X-Content-Type"] == "text/plain"
        assert h["X-Etag"] == hashlib.md5(b"12345").hexdigest()
        assert h["X-Timestamp"] == t
        assert h["X-Trans-Id"] == "txupd"
        assert h["X-Backend-Storage-Policy-Index"] == "0"
        tp = ts()
        st, h, _ = srv.request("POST", "/sda/1/a/c/o%20o", headers=dict(
            upd, **{"X-Timestamp": tp, "Content-Type": "new/type"}))
        assert st == 202 and h["X-Backend-Content-Type"] == "new/type"
        method, path, h = FakeContainer.seen[1]
        assert (method, path) == ("PUT", "/cd1/7/a/c/o%20o")
        assert h["X-Timestamp"] == t and h["X-Meta-Timestamp"] == tp
        assert h["X-Content-Type"] == "new/type"
        assert h["X-Content-Type-Timestamp"] == tp
        assert h["X-Size"] == "5"
        td = ts()
        st, _, _ = srv.request("DELETE", "/sda/1/a/c/o%20o",
                               headers=dict(upd, **{"X-Timestamp": td}))
        assert st == 204
        method, path, h = FakeContainer.seen[2]
        assert (method, path) == ("DELETE", "/cd1/7/a/c/o%20o")
        assert h["X-Timestamp"] == td
        assert srv.files("async_pending/**/*") == []
    finally:
        cs.shutdown()
        cs.server_close()
    # the container server is down now: the update waits on disk
    t = ts()
    upd["X-Container-Host"] = "%s,127.0.0.1:1" % host
    upd["X-Container-Device"] = "cd1,cd2"
    assert put(srv, "/sda/1/a/c/o2", b"xy",
               **dict(upd, **{"X-Timestamp": t}))[0] == 201
    pend = [p for p in srv.files("async_pending/**/*") if os.path.isfile(p)]
    assert len(pend) == 1
    name = os.path.basename(pend[0])
    assert name.endswith("-" + t)
    assert os.path.basename(os.path.dirname(pend[0])) == name[29:32]
    with open(pend[0]) as f:
        doc = json.load(f)
    assert doc["op"] == "PUT" and doc["obj"] == "o2"
    assert doc["account"] == "a" and doc["container"] == "c"
    assert doc["headers"]["X-Size"] == "2"
    assert doc["headers"]["X-Timestamp"] == t


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_100mib_put_get_bounded_rss(srv):
    size = 100 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    md5 = hashlib.md5()
    rss = [vmrss_kib(srv.proc.pid)]

    def gen():
        for i in range(100):
            b = block[i:] + block[:i]
            md5.update(b)
            if i % 10 == 0:
                rss.append(vmrss_kib(srv.proc.pid))
            yield b
    st, h, _ = srv.request("PUT", P, gen(), {
        "X-Timestamp": ts(), "Content-Type": "application/octet-stream",
        "Content-Length": str(size)})
    assert st == 201
    assert h["ETag"] == '"%s"' % md5.hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("GET", P)
    resp = conn.getresponse()
    assert resp.status == 200
    got = hashlib.md5()
    n = 0
    while True:
        chunk = resp.read(1024 * 1024)
        if not chunk:
            break
        got.update(chunk)
        n += len(chunk)
        if n % (10 * 1024 * 1024) < 1024 * 1024:
            rss.append(vmrss_kib(srv.proc.pid))
    conn.close()
    assert n == size and got.hexdigest() == md5.hexdigest()
    # bounded: far below the object's size (ASan builds carry ~30 MiB of
    # shadow and quarantine on top of a few MiB)
    assert max(rss) - rss[0] < 40 * 1024, rss


# 12 MiB: large enough that the MD5 is computed on a helper thread
@pytest.mark.parametrize("size", [200000, 12 * 1024 * 1024])
def test_corrupt_data_is_quarantined_and_the_read_cut(srv, size):
    body = b"z" * size
    assert put(srv, P, body)[0] == 201
    data_file, = srv.files("objects/**/*.data")
    with open(data_file, "r+b") as f:   # same size, different bytes
        f.seek(size - 1000)
        f.write(b"Y")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", P)
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    assert not os.path.exists(data_file)
    assert len(srv.files("quarantined/objects/*")) == 1
    assert srv.request("GET", P)[0] == 404
    # a range read is not checked, and does not quarantine
    assert put(srv, P, body)[0] == 201
    st, _, data = srv.request("GET", P, headers={"Range": "bytes=0-9"})
    assert st == 206 and data == body[:10]


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def test_client_leaving_a_large_get_midway(srv):
    """The reader and its hashing thread go with the connection; the
    object stays (not quarantined) and serves the next GET whole."""
    body = os.urandom(1024 * 1024) * 12
    assert put(srv, P, body)[0] == 201
    before = threads(srv.proc.pid)
    for _ in range(3):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("GET", P)
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read(3 * 1024 * 1024) == body[:3 * 1024 * 1024]
        conn.close()
    deadline = time.time() + 30
    while threads(srv.proc.pid) > before and time.time() < deadline:
        time.sleep(0.1)
    assert threads(srv.proc.pid) <= before
    assert not srv.files("quarantined/objects/*")
    st, _, data = srv.request("GET", P)
    assert st == 200 and data == body


DIRECT_CLIENT_SCRIPT = r"""
import hashlib, sys, time
from swift.common import direct_client as dc
from swift.common.exceptions import ClientException
ts = lambda: "%.5f" % time.time()
node = {"ip": "127.0.0.1", "port": int(sys.argv[1]), "device": "sda"}
body = b"direct " * 1000
etag = dc.direct_put_object(node, 3, "AUTH_t", "c", "d/o", body,
                            content_length=len(body), content_type="text/x",
                            headers={"X-Timestamp": ts(),
                                     "X-Object-Meta-K": "v"})
assert etag == hashlib.md5(body).hexdigest()
h = dc.direct_head_object(node, 3, "AUTH_t", "c", "d/o")
assert h["x-object-meta-k"] == "v" and h["content-type"] == "text/x"
h, got = dc.direct_get_object(node, 3, "AUTH_t", "c", "d/o")
assert got == body and h["etag"].strip('"') == etag
time.sleep(0.01)
dc.direct_post_object(node, 3, "AUTH_t", "c", "d/o",
                      {"X-Timestamp": ts(), "X-Object-Meta-K": "w"})
h = dc.direct_head_object(node, 3, "AUTH_t", "c", "d/o")
assert h["x-object-meta-k"] == "w", h
time.sleep(0.01)
dc.direct_delete_object(node, 3, "AUTH_t", "c", "d/o",
                        headers={"X-Timestamp": ts()})
try:
    dc.direct_head_object(node, 3, "AUTH_t", "c", "d/o")
    raise AssertionError("HEAD after DELETE did not fail")
except ClientException as e:
    assert e.http_status == 404, e.http_status
print("ok")
"""


def test_swift_direct_client(srv):
    """Swift 2.30's own backend client (what its tools and daemons use),
    in a child process: see swift_oracle.py for why never in this one."""
    if importlib.util.find_spec("swift") is None:
        pytest.skip("python3-swift not installed")
    r = subprocess.run([sys.executable, "-W", "ignore", "-c",
                        DIRECT_CLIENT_SCRIPT, str(srv.port)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


def test_size_checks(srv):
    # over max_file_size: refused before any byte of the body
    s, data = raw(srv, "PUT %s HTTP/1.1\r\nHost: x\r\nX-Timestamp: %s\r\n"
                       "Content-Type: a/b\r\nContent-Length: 5368709123\r\n"
                       "Expect: 100-continue\r\n\r\n" % (P, ts()))
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data
    # chunked with the proxy's declared length, but fewer bytes: 499
    st, _, _ = srv.request("PUT", P, iter([b"abc"]), {
        "X-Timestamp": ts(), "Content-Type": "a/b",
        "Transfer-Encoding": "chunked",
        "X-Backend-Obj-Content-Length": "10"}, chunked=True)
    assert st == 499
    assert srv.files("objects/**/*.data") == []
    assert os.listdir(os.path.join(srv.devices, "sda", "tmp")) == []


def test_post_delete_at_and_replication_read(srv):
    at = int(time.time()) + 2
    assert put(srv, P)[0] == 201
    st, _, data = srv.request("POST", P, headers={
        "X-Timestamp": ts(), "X-Delete-At": str(int(time.time()) - 10)})
    assert st == 400 and data == b"X-Delete-At in past"
    assert srv.request("POST", P, headers={
        "X-Timestamp": ts(), "X-Delete-At": str(at)})[0] == 202
    later = {"X-Timestamp": str(at + 1)}
    assert srv.request("GET", P, headers=later)[0] == 404
    later["X-Backend-Replication"] = "true"
    assert srv.request("GET", P, headers=later)[0] == 200
    # the expirer's DELETE: X-If-Delete-At must match
    st, _, _ = srv.request("DELETE", P, headers={
        "X-Timestamp": ts(), "X-If-Delete-At": str(at + 5)})
    assert st == 412
    st, _, _ = srv.request("DELETE", P, headers={
        "X-Timestamp": ts(), "X-If-Delete-At": str(at)})
    assert st == 204


# Headers that legitimately differ: per-connection or per-process ones,
# and those we add on purpose (doc/object-server.md §3).
IGNORED = {"date", "connection", "x-trans-id"}


def normalize(status, headers, body):
    # libmicrohttpd cannot send an empty value (Swift's DELETE sends an
    # empty X-Backend-Content-Type when there was no object)
    headers = {k.lower(): v for k, v in headers.items()
               if k.lower() not in IGNORED and v != ""}
    if status == 204:   # libmicrohttpd sends no Content-Length (RFC 7230)
        headers.pop("content-length", None)
    ctype = headers.get("content-type", "")
    if ctype.startswith("multipart/byteranges;boundary="):
        b = ctype.split("=", 1)[1]
        headers["content-type"] = ctype.replace(b, "B")
        body = body.replace(b.encode(), b"B")
    return status, headers, body


def test_same_answers_as_swift(srv, tmp_path):
    """One script of requests, to Swift's object server and to ours: the
    same statuses, headers and bodies."""
    app = SwiftOracle("object", os.path.join(str(tmp_path), "swift-node"))
    base = int(time.time())
    t = ["%d.00000" % (base + i) for i in range(6)]
    body = b"0123456789" * 10
    md5 = hashlib.md5(body).hexdigest()
    script = [
        ("PUT", P, body, {"X-Timestamp": t[1], "Content-Type": "text/plain",
                          "X-Object-Meta-Foo1bar": "x",
                          "X-Object-Sysmeta-S": "s",
                          "Content-Disposition": "inline",
                          "X-Unknown": "dropped"}),
        ("GET", P, None, {}),
        ("HEAD", P, None, {}),
        ("GET", P, None, {"Range": "bytes=5-9"}),
        ("GET", P, None, {"Range": "bytes=0-1,20-29"}),
        ("GET", P, None, {"Range": "bytes=-3"}),
        ("GET", P, None, {"Range": "bytes=500-"}),
        ("GET", P, None, {"Range": "bytes=9-5"}),
        ("GET", P, None, {"If-None-Match": '"%s"' % md5}),
        ("GET", P, None, {"If-Match": '"nope"'}),
        ("GET", P, None, {"If-Match": md5}),
        ("GET", P, None, {"If-Modified-Since":
                          "Fri, 01 Jan 2100 00:00:00 GMT"}),
        ("GET", P, None, {"If-Unmodified-Since":
                          "Thu, 01 Jan 1970 00:00:00 GMT"}),
        # what slo, symlink and encryption in Swift's proxy send
        ("GET", P, None, {"Range": "bytes=5-9",
                          "X-Backend-Ignore-Range-If-Metadata-Present":
                          "X-Other, x-object-sysmeta-s"}),
        ("GET", P, None, {"Range": "bytes=5-9",
                          "X-Backend-Ignore-Range-If-Metadata-Present":
                          "X-Other"}),
        ("GET", P, None, {"Range": "bytes=500-",
                          "X-Backend-Ignore-Range-If-Metadata-Present":
                          "X-Object-Meta-Foo1bar"}),
        ("GET", P, None, {"If-Match": "s", "X-Backend-Etag-Is-At":
                          "X-Object-Sysmeta-Nope,x-object-sysmeta-s"}),
        ("GET", P, None, {"If-Match": md5,
                          "X-Backend-Etag-Is-At": "X-Object-Sysmeta-S"}),
        ("HEAD", P, None, {"If-None-Match": '"s"',
                           "X-Backend-Etag-Is-At": "X-Object-Sysmeta-S"}),
        ("GET", P, None, {"If-None-Match": md5,
                          "X-Backend-Etag-Is-At": "X-Object-Sysmeta-Nope"}),
        ("PUT", P, body, {"X-Timestamp": t[1], "Content-Type": "text/plain"}),
        ("PUT", P, body, {"X-Timestamp": t[2], "Content-Type": "text/plain",
                          "If-None-Match": "*"}),
        ("POST", P, None, {"X-Timestamp": t[0]}),
        ("POST", P, None, {"X-Timestamp": t[2], "X-Object-Meta-New": "n"}),
        ("GET", P, None, {}),
        ("DELETE", P, None, {"X-Timestamp": t[1]}),
        ("DELETE", P, None, {"X-Timestamp": t[3]}),
        ("GET", P, None, {}),
        ("HEAD", P, None, {"If-Match": "*"}),
        ("PUT", P, body, {"X-Timestamp": t[2], "Content-Type": "text/plain"}),
        ("DELETE", "/sda/1/a/c/missing", None, {"X-Timestamp": t[3]}),
        ("POST", "/sda/1/a/c/missing", None, {"X-Timestamp": t[3]}),
        ("PUT", P, body, {"Content-Type": "text/plain"}),
        ("PUT", P, body, {"X-Timestamp": "bad", "Content-Type": "a/b"}),
        ("PUT", P, body, {"X-Timestamp": t[4]}),
        ("PUT", P, body, {"X-Timestamp": t[4], "Content-Type": "a/b",
                          "ETag": "0" * 32}),
        ("PUT", P, body, {"X-Timestamp": t[4], "Content-Type": "a/b",
                          "X-Delete-At": str(base - 100)}),
        ("PUT", P, b"", {"X-Timestamp": t[5], "Content-Type": "a/b",
                         "ETag": '"%s"' % hashlib.md5(b"").hexdigest()}),
        ("GET", P, None, {"Range": "bytes=-5"}),
        ("PUT", Q, body, {"X-Timestamp": t[1], "Content-Type": "a/b",
                          "X-Object-Transient-Sysmeta-T": "t",
                          "X-Object-Meta-Under_Score": "u",
                          "Content-Encoding": "gzip",
                          "X-Delete-At": str(base + 3600),
                          "X-Static-Large-Object": "True"}),
        ("HEAD", Q, None, {}),
        ("POST", Q, None, {"X-Timestamp": t[2], "Content-Type": "c/d"}),
        ("POST", Q, None, {"X-Timestamp": t[3], "X-Object-Meta-Z": "z"}),
        ("GET", Q, None, {"Range": "bytes=0-0,-1"}),
        ("GET", Q, None, {"Range": "bytes=0-10,5-15,8-20"}),
        ("GET", Q, None, {"Range": "bytes=0-10,5-15"}),
        ("GET", Q, None, {"Range": "bytes=0-,0-"}),
        ("GET", Q, None, {"If-None-Match": '"a", "%s"' % md5}),
        ("GET", Q, None, {"If-Match": '"a", "%s"' % md5,
                          "If-Modified-Since": "garbage"}),
        ("DELETE", Q, None, {"X-Timestamp": t[4], "X-If-Delete-At": "x"}),
        ("DELETE", Q, None, {"X-Timestamp": t[4],
                             "X-If-Delete-At": str(base + 1)}),
        ("DELETE", Q, None, {"X-Timestamp": t[4],
                             "X-If-Delete-At": str(base + 3600)}),
        ("DELETE", Q, None, {"X-Timestamp": t[3]}),
        ("PUT", Q, body, {"X-Timestamp": t[4], "Content-Type": "a/b"}),
        ("PUT", Q, body, {"X-Timestamp": t[5], "Content-Type": "a/b",
                          "X-Delete-At": "soon"}),
        ("PUT", Q, body, {"X-Timestamp": t[5], "Content-Type": "a/b",
                          "If-None-Match": md5}),
        ("POST", Q, None, {"X-Timestamp": t[5], "X-Delete-At": "1"}),
        ("GET", "/sda/1/a/c", None, {}),
        ("GET", "/sda/1/a", None, {}),
        ("GET", "/sda//a/c/o", None, {}),
        ("GET", "/../1/a/c/o", None, {}),
        ("PUT", "/sda/1/a/c/" + "x" * 1025, body,
         {"X-Timestamp": t[5], "Content-Type": "a/b"}),
        ("GET", "/sdz/1/a/c/o", None, {}),
    ]
    for method, path, data, headers in script:
        want = normalize(*app.request(method, path, headers, None, data))
        st, h, got = srv.request(method, path, data, headers)
        have = normalize(st, h, got)
        assert have == want, (method, path, headers)


def test_garbage_never_crashes(srv):
    """Random bad headers and paths: a 4xx/5xx each, never a dead daemon
    (under ASan/UBSan in Debug builds, any memory error aborts it)."""
    import random
    rnd = random.Random(1234)
    junk = ["", "-", "0", "-1", "1e400", "nan", "bytes=", "bytes=-0",
            "bytes=,", "bytes=0-0,-0", "bytes=18446744073709551615-",
            "bytes=-18446744073709551616", '"', '*', '","', "\xe9",
            "99999999999999999999", "1.5", "Thu, 01 Jan 1970 00:00:00 GMT",
            "x" * 3000, "127.0.0.1:1,", ",", "a:b", "[::1]:1", "%zz"]
    names = ["Range", "If-Match", "If-None-Match", "If-Modified-Since",
             "If-Unmodified-Since", "X-Timestamp", "X-Delete-At",
             "X-If-Delete-At", "ETag", "Content-Type",
             "X-Backend-Obj-Content-Length", "X-Container-Host",
             "X-Container-Device", "X-Container-Partition",
             "X-Backend-Replication-Headers", "X-Backend-Replication",
             "X-Backend-Storage-Policy-Index",
             "X-Backend-Container-Update-Override-Etag"]
    paths = [P, Q, "/sda/1/a/c/%C3%A9", "/sda/1/a/c/%ED%A0%80", "/sda/1/a/c/",
             "/sda/4294967296/a/c/o", "/sda/-1/a/c/o", "/", "//////",
             "/sda/1/a/c/" + "o" * 2000]
    put(srv, P)
    for i in range(1000):
        method = rnd.choice(["GET", "HEAD", "PUT", "POST", "DELETE", "XX",
                             "REPLICATE"])
        headers = {n: rnd.choice(junk) for n in rnd.sample(names, 4)}
        headers = {k: v for k, v in headers.items() if v != ""}
        if rnd.random() < 0.7:
            headers["X-Timestamp"] = ts()
        if "X-Container-Host" in headers:
            headers["X-Container-Device"] = "d"
            headers["X-Container-Partition"] = "1"
        body = b"abc" if method in ("PUT", "POST") else None
        try:
            st, _, _ = srv.request(method, rnd.choice(paths), body,
                                   {k: v.encode("latin-1", "replace")
                                    .decode("latin-1")
                                    for k, v in headers.items()})
            assert 200 <= st < 600
        except (http.client.HTTPException, ConnectionError):
            pass
        assert srv.proc.poll() is None, "daemon died at request %d" % i
    assert srv.request("HEAD", P)[0] in (200, 404)


def test_replicate_suffix_hashes(srv):
    st, h, data = srv.request("REPLICATE", "/sda/1")
    assert st == 200 and json.loads(data) == {}
    put(srv, P)
    data_file, = srv.files("objects/**/*.data")
    suffix = os.path.basename(os.path.dirname(os.path.dirname(data_file)))
    st, h, data = srv.request("REPLICATE", "/sda/1")
    assert st == 200 and h["Content-Type"] == "application/json"
    before = json.loads(data)
    assert list(before) == [suffix] and len(before[suffix]) == 16
    srv.request("DELETE", P, headers={"X-Timestamp": ts()})
    st, _, data = srv.request("REPLICATE", "/sda/1/%s" % suffix)
    after = json.loads(data)
    assert st == 200 and after[suffix] != before[suffix]
    assert srv.request("REPLICATE", "/sdz/1")[0] == 507
    assert srv.request("REPLICATE", "/sda/1/xyz")[0] == 400
    assert srv.request("REPLICATE", "/sda/x")[0] == 400
    assert srv.request("REPLICATE", "/sda")[0] == 400


# ---- metadata footers: X-Backend-Obj-Metadata-Footer ----

BOUNDARY = b"9f3a" * 16


def footer_part(footer, tail=b"--\r\n"):
    j = json.dumps(footer).encode()
    return (b"\r\n--" + BOUNDARY + b"\r\nX-Document: object metadata\r\n"
            b"Content-MD5: " + hashlib.md5(j).hexdigest().encode() +
            b"\r\n\r\n" + j + b"\r\n--" + BOUNDARY + tail)


def mime_doc(data, footer):
    """The body Swift's MIMEPutter (and kura-proxy) sends."""
    return (b"--" + BOUNDARY + b"\r\nX-Document: object body\r\n\r\n" +
            data + footer_part(footer))


def footer_put(srv, path, doc, size=None, trusted=False, **extra):
    """A footer PUT as a proxy sends it: Expect: 100-continue (the 100 must
    say X-Obj-Metadata-Footer: yes), then the MIME document chunked, in
    pieces that cut through the boundaries. Returns (status, headers,
    body)."""
    hdrs = {"X-Timestamp": ts(), "Content-Type": "text/plain",
            "X-Backend-Obj-Metadata-Footer": "yes",
            "X-Backend-Obj-Multipart-Mime-Boundary": BOUNDARY.decode(),
            "Transfer-Encoding": "chunked", "Expect": "100-continue"}
    if size is not None:
        hdrs["X-Backend-Obj-Content-Length"] = str(size)
    if trusted:
        hdrs["X-Backend-Kura-Footer-Etag-Trusted"] = "yes"
    hdrs.update(extra)
    head = "PUT %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
        path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    s, data = raw(srv, head)
    try:
        if not data.startswith(b"HTTP/1.1 100"):  # refused at once
            return int(data.split(b" ")[1]), None, data
        assert b"\r\nX-Obj-Metadata-Footer: yes\r\n" in data, data
        cuts = [0, 7, len(doc) // 2, len(doc) - 9, len(doc)]
        try:
            for a, b in zip(cuts, cuts[1:]):
                if b > a:
                    s.sendall(b"%x\r\n%s\r\n" % (b - a, doc[a:b]))
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # answered early and closed
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, resp.headers, resp.read()
    finally:
        s.close()


def tmp_files(srv):
    return os.listdir(os.path.join(srv.devices, "sda", "tmp"))


@pytest.mark.parametrize("trusted", [False, True])
def test_footer_put(srv, trusted):
    body = os.urandom(300000) + b"\r\n--" + BOUNDARY[:-1]
    etag = hashlib.md5(body).hexdigest()
    doc = mime_doc(body, {"Etag": etag, "X-Object-Sysmeta-Foot": "f",
                          "X-Object-Meta-Num": 5, "Content-Type": "x/y"})
    st, h, _ = footer_put(srv, P, doc, size=len(body), trusted=trusted)
    assert st == 201 and h["ETag"] == '"%s"' % etag
    st, h, got = srv.request("GET", P)
    assert st == 200 and got == body and h["ETag"] == '"%s"' % etag
    # the footer's metadata is stored as Swift's object server stores it
    assert h["X-Object-Sysmeta-Foot"] == "f"
    assert h["X-Object-Meta-Num"] == "5"
    assert h["Content-Type"] == "text/plain"
    assert tmp_files(srv) == []


def test_footer_wrong_etag_untrusted_422_nothing_stored(srv):
    body = b"hello footer"
    # the footer's ETag wins over the header's, as in Swift
    st, _, _ = footer_put(srv, P, mime_doc(body, {"Etag": "0" * 32}),
                          ETag=hashlib.md5(body).hexdigest())
    assert st == 422
    assert srv.files("objects/**/*.data") == [] and tmp_files(srv) == []
    assert srv.request("GET", P)[0] == 404
    # no footer ETag: the header's is checked
    st, _, _ = footer_put(srv, P, mime_doc(body, {}), ETag="1" * 32)
    assert st == 422
    assert srv.files("objects/**/*.data") == []
    st, h, _ = footer_put(srv, P, mime_doc(body, {}))
    assert st == 201 and h["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()


def test_footer_wrong_etag_trusted_is_stored_and_a_full_get_quarantines(srv):
    body = b"q" * 200000
    wrong = "ab" * 16
    st, h, _ = footer_put(srv, P, mime_doc(body, {"Etag": wrong}),
                          size=len(body), trusted=True)
    assert st == 201 and h["ETag"] == '"%s"' % wrong   # not hashed here
    data_file, = srv.files("objects/**/*.data")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", P)
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    assert not os.path.exists(data_file)
    assert len(srv.files("quarantined/objects/*")) == 1
    assert srv.request("GET", P)[0] == 404
    # trusted, but no ETag to trust
    st, _, _ = footer_put(srv, P, mime_doc(body, {}), trusted=True)
    assert st == 422
    assert srv.files("objects/**/*.data") == [] and tmp_files(srv) == []


def test_footer_malformed_mime_4xx_and_no_temp_file(srv):
    body = b"x" * 100000
    good = {"Etag": hashlib.md5(body).hexdigest()}
    bad_md5 = mime_doc(body, good).replace(b"Content-MD5: ",
                                           b"Content-MD5: 0")
    cases = [
        (b"--nope\r\n\r\n" + body + footer_part(good), 400,
         b"invalid starting boundary"),
        (b"--" + BOUNDARY + b"\r\n\r\n" + body + b"\r\n--" + BOUNDARY +
         b"--\r\n", 400, b"couldn't find footer MIME doc"),
        (b"--" + BOUNDARY + b"\r\n\r\n" + body, 400,
         b"couldn't find footer MIME doc"),
        (b"--" + BOUNDARY + b"\r\n\r\n" + body + b"\r\n--" + BOUNDARY +
         b"\r\n\r\n{}\r\n--" + BOUNDARY + b"--", 400,
         b"no Content-MD5 in footer"),
        (bad_md5, 422, b"footer MD5 mismatch"),
        (b"--" + BOUNDARY + b"\r\n" + b"H" * 20000, 400,
         b"MIME headers too large"),
    ]
    for doc, status, why in cases:
        st, _, got = footer_put(srv, P, doc)
        assert (st, got) == (status, why), (doc[:40], st, got)
        assert srv.files("objects/**/*.data") == [] and tmp_files(srv) == []
    # the data's size is X-Backend-Obj-Content-Length: 499 when short
    st, _, _ = footer_put(srv, P, mime_doc(body, good), size=len(body) + 1)
    assert st == 499
    # no boundary: refused before the body
    st, _, got = footer_put(srv, P, mime_doc(body, good),
                            **{"X-Backend-Obj-Multipart-Mime-Boundary": ""})
    assert st == 400 and got.endswith(b"no MIME boundary"), got
    assert srv.files("objects/**/*.data") == [] and tmp_files(srv) == []
    assert srv.request("GET", P)[0] == 404
