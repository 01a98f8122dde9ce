"""breakage - what probe tests do to a running probe.Cluster beyond
stopping nodes: find an object's files on a device, damage them, kill a
single daemon, read a container server's listing directly.
"""
import http.client
import json
import os
import signal
import time
import urllib.parse


def data_file(cluster, path, dev):
    """The current .data file of object 'a/c/o' on ring device 'dev', or
    None."""
    a, c, o = path.split('/', 2)
    node = cluster.node_of(dev)
    names = cluster.object_dirs(a, c, o).get((node, dev['device']), [])
    datas = [n for n in names if n.endswith('.data')]
    if not datas:
        return None
    part = cluster.primaries([path])[path][0]
    h = cluster.name_hash(a, c, o)
    return os.path.join(cluster.device_path(node, dev['device']), 'objects',
                        str(part), h[-3:], h, datas[-1])


def flip_byte(path, offset):
    """Bit rot: inverts one byte of a file in place (its size, xattrs and
    times otherwise as they were)."""
    st = os.stat(path)
    with open(path, 'r+b') as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xff]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def pid_of(cluster, name):
    """The pid of daemon 'name' (e.g. 'container-server-2'), or None."""
    try:
        with open(os.path.join(cluster.dir, 'run', name + '.pid')) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def kill9(cluster, name, timeout=30):
    """SIGKILL to one daemon; True if it ran. Returns once the process has
    exited, so its ports are free: a dying process no longer counts as
    running for `kura aio` but may still hold its sockets."""
    pid = pid_of(cluster, name)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    return True


def _alive(pid):
    """True until the process has exited: gone, or a zombie (this
    machine's init may leave daemons' zombies unreaped)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def container_listing(dev, part, account, container):
    """[names] of a container server's own copy of a container (a direct
    GET with the device and partition), or None when it has none."""
    path = '/%s/%d/%s/%s?format=json' % (
        dev['device'], part, urllib.parse.quote(account),
        urllib.parse.quote(container))
    conn = http.client.HTTPConnection(dev['ip'], dev['port'], timeout=30)
    try:
        conn.request('GET', path)
        resp = conn.getresponse()
        body = resp.read()
    except OSError:
        return None
    finally:
        conn.close()
    if resp.status // 100 != 2:
        return None
    return [r['name'] for r in json.loads(body or b'[]')]


def async_pendings(cluster):
    """How many async pending files the nodes' devices hold."""
    n = 0
    for i in range(1, cluster.nodes + 1):
        for dev in cluster.node_devices(i):
            top = os.path.join(cluster.device_path(i, dev), 'async_pending')
            for _, _, files in os.walk(top):
                n += len(files)
    return n
