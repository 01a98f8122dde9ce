"""Starts kura-container-server and kura-account-server for functional tests.

Each server gets a temp dir with a device directory (mount_check = false),
a swift.conf for the hash path, its config file and its log; it listens on
a free port of 127.0.0.1. Binaries: $KURA_BUILD/storage (KURA_BUILD defaults
to <repo>/build).
"""
import http.client
import os
import socket
import subprocess
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get('KURA_BUILD',
                                       os.path.join(REPO, 'build')))
CONTAINER_SERVER = os.path.join(BUILD, 'storage', 'kura-container-server')
ACCOUNT_SERVER = os.path.join(BUILD, 'storage', 'kura-account-server')
DATA = os.path.join(REPO, 'tests', 'unit', 'data', 'storage')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """One daemon: start(), request(), stop()."""

    def __init__(self, binary, kind, tmp, devices=('sda',)):
        self.binary = binary
        self.kind = kind  # 'container' or 'account'
        self.root = os.path.join(str(tmp), kind)
        self.devices = os.path.join(self.root, 'srv')
        for d in devices:
            os.makedirs(os.path.join(self.devices, d))
        etc = os.path.join(self.root, 'etc')
        os.makedirs(etc)
        with open(os.path.join(etc, 'swift.conf'), 'w') as f:
            f.write('[swift-hash]\nswift_hash_path_prefix = kura\n'
                    'swift_hash_path_suffix = test\n')
        self.port = free_port()
        self.conf = os.path.join(etc, '%s-server.conf' % kind)
        self.log = os.path.join(self.root, 'server.log')
        with open(self.conf, 'w') as f:
            f.write('[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %d\n'
                    'devices = %s\nmount_check = false\nswift_dir = %s\n'
                    'log_file = %s\n\n[app:%s-server]\n'
                    % (self.port, self.devices, etc, self.log, kind))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, self.conf])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError('%s exited: %s' % (
                        self.binary, open(self.log).read()))
                time.sleep(0.05)
        raise RuntimeError('%s did not start' % self.binary)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc is None or self.proc.returncode in (0, -9), \
            'exit status %s' % self.proc.returncode

    def request(self, method, path, headers=None, query=None, raw=False):
        """Returns (status, headers dict with lower-case names, body).
        'raw': the path is sent as given, not quoted."""
        url = path if raw else urllib.parse.quote(path, safe='/')
        if query:
            url += '?' + (query if isinstance(query, str)
                          else urllib.parse.urlencode(query))
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        try:
            conn.request(method, url, headers=headers or {})
            resp = conn.getresponse()
            body = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, body
        finally:
            conn.close()

    def log_text(self):
        with open(self.log) as f:
            return f.read()


def ts(n):
    return '%016.5f' % n
