"""Issue 5: "a replacement disk that is not mounted yet is never written".
With mount_check on, a device directory that is not a mount point is an
empty mount point whose disk is missing: writing there would fill the
root file system and vanish when the disk is mounted. So a node whose
failed disk was pulled serves nothing from it (507), its peers put the
disk's replicas on handoffs, nothing at all lands in the bare directory,
and once the new disk is mounted it is refilled and the handoffs revert.

Needs root (tmpfs mounts stand in for disks); skipped otherwise.
"""
import configparser
import os
import subprocess
import time

import probe

NODE = 2
OBJECTS = 60


def mount_tmpfs(path):
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64m', 'tmpfs',
                        path], capture_output=True, text=True)
    if r.returncode != 0:
        probe.pytest.skip('cannot mount tmpfs: ' + r.stderr.strip())


def umount(path):
    subprocess.run(['umount', '-l', path], capture_output=True)


def set_mount_check(cluster, node):
    for kind in probe.SERVER_KINDS:
        path = os.path.join(cluster.dir, 'etc',
                            '%s-server-%d.conf' % (kind, node))
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(path)
        cp['DEFAULT']['mount_check'] = 'true'
        with open(path, 'w') as f:
            cp.write(f)


def test_unmounted_replacement_disk_is_never_written(cluster):
    probe.require(probe.binary('kura-replicator'))
    conn = cluster.swift()
    conn.put_container('c')
    for i in range(OBJECTS):
        conn.put_object('c', 'o%02d' % i, b'x' * (100 + i))
    account = cluster.account
    paths = ['%s/c/o%02d' % (account, i) for i in range(OBJECTS)]
    cluster.wait_replicas(paths, 120, what='after the load')

    bare, other = cluster.node_devices(NODE)
    bare_path = cluster.device_path(NODE, bare)
    other_path = cluster.device_path(NODE, other)
    mounted = []
    try:
        # node 2 goes down; its other disk becomes a real mount point, and
        # the failed one is pulled: an empty directory, nothing mounted
        cluster.stop_node(NODE)
        set_mount_check(cluster, NODE)
        mount_tmpfs(other_path)
        mounted.append(other_path)
        cluster.wipe_device(NODE, bare)
        cluster.start_node(NODE)

        on_bare = [p for p, (_, ds) in cluster.primaries(paths).items()
                   if bare in [d['device'] for d in ds]]
        assert on_bare

        def three_copies():
            """Every object has three copies on devices that can hold
            them (the bare one aside): primaries and handoffs."""
            for p in on_bare:
                a, c, o = p.split('/', 2)
                where = [w for w, names in cluster.object_dirs(a, c, o).items()
                         if any(n.endswith('.data') for n in names)
                         and w != (NODE, bare)]
                if len(where) < 3:
                    return False
            return True
        probe.wait_until(three_copies, 180,
                         'the bare disk\'s replicas on handoffs')
        # several more passes of every replicator and DB replicator
        time.sleep(15)
        assert os.listdir(bare_path) == [], \
            'written to an unmounted device: %s' % os.listdir(bare_path)
        assert cluster.replicas_of(*paths[0].split('/', 2)) is not None

        # the new disk is mounted: refilled, handoffs reverted
        mount_tmpfs(bare_path)
        mounted.append(bare_path)
        cluster.wait_replicas(on_bare, 180, what='refilled once mounted')

        def no_handoff_copies():
            placed = cluster.primaries(on_bare)
            for p in on_bare:
                a, c, o = p.split('/', 2)
                want = {(cluster.node_of(d), d['device'])
                        for d in placed[p][1]}
                if set(cluster.object_dirs(a, c, o)) - want:
                    return False
            return True
        probe.wait_until(no_handoff_copies, 180, 'handoffs reverted')
    finally:
        cluster.stop()
        for path in reversed(mounted):
            umount(path)
