#!/usr/bin/python3
"""4 KiB PUT, GET and HEAD rates of one kura-object-server (one device, a
temp dir, mount_check off), and a large PUT/GET, with the server's RSS.

    /usr/bin/python3 bench/object_server.py [build dir] [seconds] [clients]

Clients are processes (no GIL between them), each with one keep-alive
connection. Prints RESULT lines; never part of the test suite.
"""
import hashlib
import http.client
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(build, tmp):
    devices = os.path.join(tmp, "node")
    os.makedirs(os.path.join(devices, "sda"))
    with open(os.path.join(tmp, "swift.conf"), "w") as f:
        f.write("[swift-hash]\nswift_hash_path_suffix = bench\n")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(tmp, "object-server.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\ndevices = %s\nmount_check = false\n"
                "bind_ip = 127.0.0.1\nbind_port = %d\nswift_dir = %s\n"
                "log_requests = false\n[app:object-server]\n"
                % (devices, port, tmp))
    proc = subprocess.Popen([os.path.join(build, "storage",
                                          "kura-object-server"), conf])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("no server")


def worker(args):
    port, method, wid, seconds, n_objs = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = os.urandom(4096)
    lat = []
    i = 0
    end = time.time() + seconds
    while time.time() < end:
        path = "/sda/%d/a/c/o-%d-%d" % (wid % 64, wid, i % n_objs)
        headers = {}
        if method == "PUT":
            headers = {"X-Timestamp": "%.5f" % time.time(),
                       "Content-Type": "application/octet-stream",
                       "Content-Length": "4096"}
        t0 = time.perf_counter()
        conn.request(method, path, body if method == "PUT" else None,
                     headers)
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        assert resp.status in (200, 201), (method, resp.status)
        i += 1
        if method == "PUT" and i >= n_objs and seconds < 0:
            break
    return lat


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(port, method, clients, seconds, n_objs):
    with multiprocessing.Pool(clients) as pool:
        t0 = time.time()
        lats = pool.map(worker, [(port, method, w, seconds, n_objs)
                                 for w in range(clients)])
        wall = time.time() - t0
    all_lat = sorted(x for l in lats for x in l)
    n = len(all_lat)
    print("RESULT op=%s_4k clients=%d requests=%d rate=%.0f/s p50=%.1fms "
          "p99=%.1fms" % (method, clients, n, n / wall,
                          all_lat[n // 2] * 1000,
                          all_lat[min(n - 1, n * 99 // 100)] * 1000))


def big(port, pid, mib):
    size = mib * 1024 * 1024
    block = os.urandom(1024 * 1024)
    rss = [rss_kib(pid)]

    def gen():
        for i in range(mib):
            if i % 16 == 0:
                rss.append(rss_kib(pid))
            yield block
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.time()
    conn.request("PUT", "/sda/1/a/c/big", gen(), {
        "X-Timestamp": "%.5f" % time.time(), "Content-Length": str(size),
        "Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    resp.read()
    put_s = time.time() - t0
    assert resp.status == 201
    t0 = time.time()
    conn.request("GET", "/sda/1/a/c/big")
    resp = conn.getresponse()
    n = 0
    while True:
        chunk = resp.read(1024 * 1024)
        if not chunk:
            break
        n += len(chunk)
        if n % (16 << 20) == 0:
            rss.append(rss_kib(pid))
    get_s = time.time() - t0
    assert n == size
    print("RESULT op=PUT_%dMiB rate=%.0fMB/s" % (mib, size / put_s / 1e6))
    print("RESULT op=GET_%dMiB rate=%.0fMB/s" % (mib, size / get_s / 1e6))
    print("RESULT server_rss_kib start=%d max=%d" % (rss[0], max(rss)))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    tmp = tempfile.mkdtemp(prefix="kura-obj-bench-")
    proc, port = start(os.path.abspath(build), tmp)
    try:
        print("RESULT server_rss_kib idle=%d" % rss_kib(proc.pid))
        run(port, "PUT", clients, seconds, 200)
        run(port, "GET", clients, seconds, 200)
        run(port, "HEAD", clients, seconds, 200)
        big(port, proc.pid, 256)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
