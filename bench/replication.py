#!/usr/bin/python3
"""Object replication: kura-replicator on a one-node `kura aio` (4 devices
d1..d4, directories on the root disk, 3 replicas, part power 10).

    /usr/bin/python3 bench/replication.py                  # 15-40 min
    /usr/bin/python3 bench/replication.py --objects 20000 --big 16   # quick
    /usr/bin/python3 bench/replication.py --build build-rel --figures refill

Figures (--figures, comma-separated; default all):
  nochange  a pass that finds nothing to do over --objects (100,000) 4 KiB
            objects: seconds (target < 10), at the default concurrency 1.
            The objects are written straight into the devices' partitions,
            every replica on its primary, by kura-replication-fill
            (bench/replication_fill.c: the object layer's format, no fsync,
            no container rows; through the proxy 100,000 objects take 3 to
            30 minutes here, depending on the machine's load); then one
            pass hashes every partition (`hash_pass_s`: no hash cache yet,
            not the figure), and the next is timed.
  refill    d1's objects/ removed (the device directory stays, as a
            replaced disk's would), then one pass at --concurrency (4)
            puts its replicas back: objects/s and MB/s (bytes of object
            data sent, 10^6), for the small objects of `nochange` and, in
            a fresh aio, for --big (64) objects of 16 MiB. The disk's
            sequential write rate is measured in the same run with
            `dd if=/dev/zero bs=1M count=1024 conv=fsync` into the temp
            dir that holds the devices, and `refill_big_vs_disk` is the big refill's MB/s
            over it (the issue's target: >= 0.5). Every refilled object is
            written once on d1 (one fsync'ed file per object); the reads
            come from the page cache.

Prints `RESULT bench=replication figure=<f> value=<v>` per figure, with
`refill_*_cpu_s` (CPU seconds of the replicator and the object server
during the refill), then a summary table. The aio's own background
daemons are stopped first so that only the measured pass runs.
"""
import argparse
import configparser
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AIO_DAEMONS = ('object-replicator', 'object-auditor', 'object-updater',
               'object-expirer')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def result(figure, value, **extra):
    more = ''.join(' %s=%s' % kv for kv in extra.items())
    print('RESULT bench=replication figure=%s value=%s%s'
          % (figure, value, more), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Aio:
    def __init__(self, build, tmp, name):
        self.build = build
        self.dir = os.path.join(tmp, name)
        self.kura = os.path.join(build, 'tools', 'kura')
        self.port = free_port()
        base = free_port()
        r = subprocess.run(
            [self.kura, 'aio', 'start', '--dir', self.dir, '--port',
             str(self.port), '--storage-port', str(base), '--nodes', '1'],
            capture_output=True, text=True, timeout=180)
        if r.returncode:
            raise RuntimeError('kura aio start: %s%s' % (r.stdout, r.stderr))
        for d in AIO_DAEMONS:
            self.stop_daemon(d)
        self.devices = os.path.join(self.dir, 'devices')

    def stop_daemon(self, name):
        """SIGTERM to a daemon this aio started (by its pid file)."""
        try:
            with open(os.path.join(self.dir, 'run', name + '.pid')) as f:
                pid = int(f.read().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            return
        for _ in range(600):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def pids(self, name):
        try:
            with open(os.path.join(self.dir, 'run', name + '.pid')) as f:
                return [int(f.read().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def stop(self):
        subprocess.run([self.kura, 'aio', 'stop', '--dir', self.dir],
                       capture_output=True, timeout=180)


def cpu_seconds(pid):
    """utime + stime of a running process."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    tick = os.sysconf('SC_CLK_TCK')
    return sum(int(x) for x in fields[11:13]) / tick


def fill(aio, container, n, size):
    """n objects of 'size' bytes on their three primaries, written straight
    into the devices by kura-replication-fill (bench/replication_fill.c)."""
    t0 = time.monotonic()
    subprocess.run(
        [os.path.join(aio.build, 'bench', 'kura-replication-fill'),
         os.path.join(aio.dir, 'etc'), aio.devices, 'AUTH_test', container,
         str(n), str(size)], check=True, timeout=7200)
    subprocess.run(['sync'], check=True)
    return time.monotonic() - t0


def replicator_conf(aio, tmp, concurrency):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(aio.dir, 'etc', 'object-server.conf'))
    if not cp.has_section('object-replicator'):
        cp.add_section('object-replicator')
    sec = cp['object-replicator']
    sec['log_name'] = 'object-replicator'
    sec['log_file'] = os.path.join(tmp, 'object-replicator.log')
    sec['recon_cache_path'] = os.path.join(tmp, 'recon')
    sec['concurrency'] = str(concurrency)
    path = os.path.join(tmp, 'object-replicator-%d.conf' % concurrency)
    with open(path, 'w') as f:
        cp.write(f)
    return path


def run_pass(aio, tmp, concurrency):
    """One `kura-replicator --once`: (seconds, replication_stats, CPU s of
    the replicator and the object server)."""
    conf = replicator_conf(aio, tmp, concurrency)
    server = aio.pids('object-server')
    cpu0 = sum(cpu_seconds(p) for p in server)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(
        [os.path.join(aio.build, 'replicator', 'kura-replicator'), '--once',
         conf], capture_output=True, text=True, timeout=7200)
    elapsed = time.monotonic() - t0
    if r.returncode:
        raise RuntimeError('kura-replicator: %s%s' % (r.stdout, r.stderr))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    cpu += sum(cpu_seconds(p) for p in server) - cpu0
    with open(os.path.join(tmp, 'recon', 'object.recon')) as f:
        stats = json.load(f)['replication_stats']
    return elapsed, stats, cpu


def wipe(aio, dev='d1'):
    shutil.rmtree(os.path.join(aio.devices, dev, 'objects'))
    subprocess.run(['sync'], check=True)


def disk_write_mb_s(directory):
    path = os.path.join(directory, 'dd.bench')
    t0 = time.monotonic()
    subprocess.run(['dd', 'if=/dev/zero', 'of=' + path, 'bs=1M',
                    'count=1024', 'conv=fsync'], check=True,
                   capture_output=True)
    secs = time.monotonic() - t0
    os.unlink(path)
    return 1024 * 1048576 / secs / 1e6


def refill(aio, tmp, concurrency, label):
    wipe(aio)
    secs, st, cpu = run_pass(aio, tmp, concurrency)
    if st['failure']:
        log('refill %s: %d failures' % (label, st['failure']))
    mb_s = st['bytes'] / secs / 1e6
    obj_s = st['objects'] / secs
    log('refill %s: %d objects, %.1f MB in %.1f s' % (
        label, st['objects'], st['bytes'] / 1e6, secs))
    return secs, obj_s, mb_s, cpu, st


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(REPO, 'build'))
    ap.add_argument('--objects', type=int, default=100000)
    ap.add_argument('--big', type=int, default=64,
                    help='16 MiB objects of the big refill')
    ap.add_argument('--concurrency', type=int, default=4,
                    help='partition jobs at once in the refills')
    ap.add_argument('--figures', default='nochange,refill')
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    figures = set(args.figures.split(','))
    table = []
    tmp = tempfile.mkdtemp(prefix='kura-bench-repl-')
    try:
        result('loadavg_1m', '%.2f' % os.getloadavg()[0])
        disk = disk_write_mb_s(tmp)
        result('disk_seq_write_MB_s', '%.1f' % disk)
        table.append(('disk sequential write (dd conv=fsync)',
                      '%.1f MB/s' % disk, ''))

        aio = Aio(args.build, tmp, 'small')
        try:
            log('writing %d objects of 4 KiB' % args.objects)
            secs = fill(aio, 'small', args.objects, 4096)
            result('fill_s', '%.1f' % secs, objects=args.objects)
            secs, st, _ = run_pass(aio, tmp, 1)
            result('hash_pass_s', '%.2f' % secs, objects=args.objects)
            if 'nochange' in figures:
                secs, st, cpu = run_pass(aio, tmp, 1)
                assert st['objects'] == 0 and st['failure'] == 0, st
                result('nochange_pass_s', '%.2f' % secs,
                       objects=args.objects, parts=st['attempted'],
                       cpu_s='%.1f' % cpu)
                table.append(('no-change pass, %d objects' % args.objects,
                              '%.2f s' % secs, '< 10 s'))
            if 'refill' in figures:
                secs, obj_s, mb_s, cpu, st = refill(aio, tmp,
                                                    args.concurrency, 'small')
                result('refill_small_objects_per_s', '%.0f' % obj_s,
                       objects=st['objects'], seconds='%.1f' % secs)
                result('refill_small_MB_s', '%.2f' % mb_s)
                result('refill_small_cpu_s', '%.1f' % cpu)
                table.append(('refill, 4 KiB objects', '%.0f objects/s, '
                              '%.1f MB/s' % (obj_s, mb_s), ''))
        finally:
            aio.stop()
        if 'refill' in figures and args.big:
            aio = Aio(args.build, tmp, 'big')
            try:
                log('writing %d objects of 16 MiB' % args.big)
                fill(aio, 'big', args.big, 16 << 20)
                run_pass(aio, tmp, 1)
                secs, obj_s, mb_s, cpu, st = refill(aio, tmp,
                                                    args.concurrency, 'big')
                result('refill_big_MB_s', '%.1f' % mb_s,
                       objects=st['objects'], seconds='%.1f' % secs)
                result('refill_big_objects_per_s', '%.1f' % obj_s)
                result('refill_big_cpu_s', '%.1f' % cpu)
                result('refill_big_vs_disk', '%.2f' % (mb_s / disk))
                table.append(('refill, 16 MiB objects', '%.1f MB/s '
                              '(%.0f%% of dd)' % (mb_s, 100 * mb_s / disk),
                              '>= 50 %'))
            finally:
                aio.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print('%-42s %-28s %s' % ('figure', 'value', 'target'))
    for row in table:
        print('%-42s %-28s %s' % row)


if __name__ == '__main__':
    main()
