"""Issue 5, acceptance 5: container servers down during PUTs. Two of the
three container replicas are unreachable while objects are uploaded: the
object servers save the updates they could not send as async pendings,
and once the container servers are back the updaters send them, so every
replica's listing is complete and no pending is left.
"""
import breakage
import probe

OBJECTS = 25


def test_listings_complete_after_the_updaters_run(cluster):
    probe.require(probe.binary('kura-updater'))
    conn = cluster.swift()
    conn.put_container('c')
    account = cluster.account
    cpath = '%s/c' % account
    cpart, cdevs = cluster.primaries([cpath])[cpath]
    down = sorted({cluster.node_of(d) for d in cdevs[:2]})
    before = breakage.async_pendings(cluster)
    # the proxy knows the container (its info is cached or read from the
    # replica left); only the container servers go, not their nodes
    conn.head_container('c')
    for i in down:
        assert breakage.kill9(cluster, 'container-server-%d' % i)
    probe.wait_until(lambda: not any(
        cluster.running('container-server-%d' % i) for i in down), 30,
        'container servers stopped')

    names = ['o%02d' % i for i in range(OBJECTS)]
    for n in names:
        conn.put_object('c', n, n.encode())
    assert breakage.async_pendings(cluster) > before, \
        'no async pending written while container servers were down'

    for i in down:
        cluster.start_node(i)  # starts just what of node i is missing

    def complete():
        lists = [breakage.container_listing(d, cpart, account, 'c')
                 for d in cdevs]
        return all(lst == names for lst in lists)
    probe.wait_until(complete, 180, 'every container replica lists all')
    probe.wait_until(lambda: breakage.async_pendings(cluster) == 0, 120,
                     'the updaters consumed the pendings')
    assert [o['name'] for o in conn.get_container('c')[1]] == names
