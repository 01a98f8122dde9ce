"""Issue 5, acceptance 4: a delete while a node is down. The node comes
back with the old objects on its devices; the tombstones on the others
must win (no resurrection), in the object replicas and in the listings.
"""
import breakage
import probe

OBJECTS = 30


def test_delete_while_a_node_is_down_stays_deleted(cluster):
    probe.require(probe.binary('kura-replicator'))
    conn = cluster.swift()
    conn.put_container('c')
    account = cluster.account
    names = ['o%02d' % i for i in range(OBJECTS)]
    for n in names:
        conn.put_object('c', n, b'doomed ' + n.encode())
    paths = ['%s/c/%s' % (account, n) for n in names]
    cluster.wait_replicas(paths, 120, what='after the load')

    # the node holding a replica of the first object goes down; the
    # objects it holds a replica of are those that could come back
    part, devs = cluster.primaries(paths[:1])[paths[0]]
    node = cluster.node_of(devs[0])
    placed = cluster.primaries(paths)
    on_node = [p for p, (_, ds) in placed.items()
               if node in [cluster.node_of(d) for d in ds]]
    cluster.stop_node(node)
    for n in names:
        conn.delete_object('c', n)  # 2 of 3 replicas: a quorum
    cluster.start_node(node)

    def all_tombstones():
        # every primary of every object answers 404, and with a
        # timestamp: a tombstone, not a missing file
        bad = cluster.missing(on_node, lambda p, h: 'present')
        return all(why == 404 for _, _, why in bad) and \
            len(bad) == 3 * len(on_node) and \
            all(h.get('x-backend-timestamp')
                for r in cluster.replica_status(on_node).values()
                for (_, h) in r.values())
    probe.wait_until(all_tombstones, 120, 'tombstones on every replica')

    # and through the API, from any replica the proxy asks
    for n in names:
        try:
            conn.head_object('c', n)
            raise AssertionError(n + ' came back')
        except probe.swiftclient.client.ClientException as e:
            assert e.http_status == 404, (n, e)

    # no container replica lists them, the stale one included
    cpath = '%s/c' % account
    cpart, cdevs = cluster.primaries([cpath])[cpath]

    def listings_empty():
        lists = [breakage.container_listing(d, cpart, account, 'c')
                 for d in cdevs]
        return all(lst == [] for lst in lists) or None
    probe.wait_until(listings_empty, 120, 'no replica lists the objects')
    assert conn.get_container('c')[1] == []
