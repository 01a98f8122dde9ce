"""KURA_TEST_TARGET=swift-on-kura: OpenStack Swift 2.30's proxy-server
(Debian's swift-proxy, with tempauth and memcached, the pipeline of
cluster.SwiftCluster) in front of Kura's storage servers.

`kura aio start --nodes 1` makes the layout: swift.conf (hash prefix and
suffix), the account, container and object rings built by kura-ring in
Swift's ring format, and the kura-object-, -container- and -account-server
over d1..d4. Its kura-proxy is stopped once started: Swift's proxy, with
swift_dir = DIR/etc and SWIFT_CONF_FILE = DIR/etc/swift.conf, is the only
one that answers. Account stats reach the account server through the
Kura container server's updater thread (no separate daemon).
"""
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time

import pytest

from cluster import (BUILD, LAUNCHER, SWIFT_PROXY_APP_CONF, SYSTEM_PYTHON,
                     WORKERS, Cluster, die_with_parent, free_port, wait_port)

def low_port_range(n):
    """A base port with base..base+n-1 free, below Linux's ephemeral
    range (32768-60999), where connections in TIME_WAIT of a busy machine
    leave few runs of free ports (checked, not reserved)."""
    rnd = random.Random()
    for _ in range(200):
        base = rnd.randrange(20000, 32000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(('127.0.0.1', p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError('no free port range')


class SwiftProxyOnKura(Cluster):
    def __init__(self):
        for exe in ('/usr/bin/swift-proxy-server', '/usr/bin/memcached',
                    '/usr/bin/swift'):
            if not os.path.exists(exe):
                pytest.skip('%s not installed (scripts/install-deps.sh)'
                            % exe)
        self.kura = os.path.join(BUILD, 'tools', 'kura')
        for exe in ('tools/kura', 'storage/kura-object-server',
                    'storage/kura-container-server',
                    'storage/kura-account-server', 'tools/kura-ring'):
            if not os.path.exists(os.path.join(BUILD, exe)):
                pytest.skip('%s not built' % exe)
        self.tmp = tempfile.mkdtemp(prefix='swift-on-kura-')
        self.dir = os.path.join(self.tmp, 'aio')
        self.procs = []
        self.aio_started = False
        try:
            self._start()
            super().__init__(
                'http://127.0.0.1:%d/auth/v1.0' % self.proxy_port,
                'test:tester', 'testing', self.tmp)
        except BaseException as e:
            logs = self.logs()
            self.stop()
            if isinstance(e, Exception):
                raise RuntimeError('Swift proxy on Kura did not start: %s\n%s'
                                   % (e, logs))
            raise

    def _spawn(self, cmd, log):
        f = open(os.path.join(self.tmp, log), 'ab')
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL,
                             start_new_session=True,
                             preexec_fn=die_with_parent)
        f.close()
        self.procs.append(p)
        return p

    def _start(self):
        # kura-proxy gets a port of its own and is stopped right away.
        base = low_port_range(16)
        r = subprocess.run(
            [self.kura, 'aio', 'start', '--dir', self.dir, '--port',
             str(free_port()), '--storage-port', str(base), '--nodes', '1'],
            capture_output=True, text=True, timeout=120)
        self.aio_started = True
        if r.returncode != 0:
            raise RuntimeError('kura aio start: %s\n%s%s'
                               % (r.returncode, r.stdout, r.stderr))
        self._stop_kura_proxy()

        etc = os.path.join(self.dir, 'etc')
        ports = {'proxy': free_port(), 'memcache': free_port()}
        self.proxy_port = ports['proxy']
        conf = os.path.join(self.tmp, 'proxy-server.conf')
        me = pwd.getpwuid(os.getuid()).pw_name
        with open(conf, 'w') as f:
            f.write(textwrap.dedent('''\
                [DEFAULT]
                bind_ip = 127.0.0.1
                bind_port = %d
                swift_dir = %s
                workers = %d
                log_level = WARNING
                user = %s
                ''') % (ports['proxy'], etc, WORKERS, me)
                + '\n' + SWIFT_PROXY_APP_CONF % ports['memcache'])
        launcher = os.path.join(self.tmp, 'launch.py')
        with open(launcher, 'w') as f:
            f.write(LAUNCHER)
        mc = self._spawn(['/usr/bin/memcached', '-u', 'root', '-l',
                          '127.0.0.1', '-p', str(ports['memcache']), '-U',
                          '0', '-m', '64'], 'memcached.log')
        wait_port(ports['memcache'], mc, what='memcached')
        proxy = self._spawn(
            [SYSTEM_PYTHON, '-W', 'ignore', launcher,
             os.path.join(etc, 'swift.conf'), 'proxy-server', conf],
            'proxy.log')
        wait_port(ports['proxy'], proxy, 60, 'proxy-server')

    def _stop_kura_proxy(self):
        pidfile = os.path.join(self.dir, 'run', 'proxy-server.pid')
        try:
            with open(pidfile) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return
        # only while it is the aio's kura-proxy (the pid may be reused)
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                cmdline = f.read()
        except OSError:
            return
        if b'kura-proxy' not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not os.path.exists('/proc/%d' % pid):
                break
            time.sleep(0.05)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []
        if self.aio_started:
            subprocess.run([self.kura, 'aio', 'stop', '--dir', self.dir],
                           capture_output=True, timeout=120)
            self.aio_started = False
        if not os.environ.get('KURA_KEEP_TMP'):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        out = []
        for d in (self.tmp, os.path.join(self.dir, 'log')):
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                if name.endswith(('.log', '.out')):
                    with open(os.path.join(d, name), errors='replace') as f:
                        out.append('== %s\n%s' % (name, f.read()[-5000:]))
        return '\n'.join(out)
