"""Issue 5, acceptance 1: a disk swap. 2,000 objects in 50 containers; a
node is stopped, one of its devices replaced by an empty one (same ring
entry) and the node started again. With no client activity, the daemons
alone (object replication, container and account replication in the DB
servers) must put back every replica of every object, container and the
account. The time the refill took is printed in the test output.
"""
import hashlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import probe

CONTAINERS = 50
PER_CONTAINER = 40
# the refill of one of 8 devices: a few hundred objects and DBs
REFILL_TIMEOUT = 120


def load(cluster, threads=8):
    """PUTs the containers and objects through the proxy with swiftclient;
    returns {'c/o': md5 of the body}."""
    names = ['c%02d/o%03d' % (c, o) for c in range(CONTAINERS)
             for o in range(PER_CONTAINER)]
    etags, lock, local = {}, threading.Lock(), threading.local()

    def conn():
        if not hasattr(local, 'conn'):
            local.conn = cluster.swift()
        return local.conn

    def put_container(c):
        conn().put_container('c%02d' % c)

    def put_object(name):
        container, obj = name.split('/')
        body = os.urandom(random.randrange(100, 4096))
        etag = conn().put_object(container, obj, body)
        assert etag == hashlib.md5(body).hexdigest(), name
        with lock:
            etags[name] = etag

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put_container, range(CONTAINERS)))
        list(pool.map(put_object, names))
    return etags


def test_disk_swap_refills(cluster, capsys):
    probe.require(probe.binary('kura-replicator'))
    started = time.monotonic()
    etags = load(cluster)
    loaded = time.monotonic() - started
    account = cluster.account
    objects = ['%s/%s' % (account, n) for n in sorted(etags)]
    containers = ['%s/c%02d' % (account, c) for c in range(CONTAINERS)]

    def object_ok(path, headers):
        want = etags[path.split('/', 1)[1]]
        got = headers.get('etag', '').strip('"')
        return None if got == want else 'etag %s' % got

    def container_ok(path, headers):
        n = headers.get('x-container-object-count')
        return None if n == str(PER_CONTAINER) else 'object count %s' % n

    def account_ok(path, headers):
        n = headers.get('x-account-container-count')
        return None if n == str(CONTAINERS) else 'container count %s' % n

    def all_in_place(objs, timeout, what):
        return (cluster.wait_replicas(objs, timeout, object_ok,
                                      what + ': objects') +
                cluster.wait_replicas(containers, timeout, container_ok,
                                      what + ': containers') +
                cluster.wait_replicas([account], timeout, account_ok,
                                      what + ': account'))

    # every write reached all three primaries, listings and account stats
    # included (container updates may go through async pendings)
    settled = all_in_place(objects, 120, 'after the load')

    # swap a disk that holds a replica of the account, so the account DB,
    # containers and objects all need refilling
    part, devs = cluster.primaries([account])[account]
    dev = devs[0]
    node, name = cluster.node_of(dev), dev['device']
    on_dev = [o for o, (p, ds) in cluster.primaries(objects).items()
              if name in [d['device'] for d in ds]]
    assert on_dev, 'no object on ' + name
    cluster.stop_node(node)
    cluster.wipe_device(node, name)
    assert os.listdir(cluster.device_path(node, name)) == []
    cluster.start_node(node)

    # the other replicas were all in place before; they are looked at
    # again once at the end
    took = all_in_place(on_dev, REFILL_TIMEOUT, 'after the disk swap')
    assert cluster.missing(objects, object_ok) == []
    assert cluster.missing(containers, container_ok) == []
    assert cluster.missing([account], account_ok) == []
    with capsys.disabled():
        print('\ndisk swap: %d objects in %d containers loaded in %.1f s, '
              'all replicas in place %.1f s later; node %d device %s (%d '
              'objects, its containers and the account) refilled in %.1f s'
              % (len(objects), len(containers), loaded, settled, node, name,
                 len(on_dev), took))
