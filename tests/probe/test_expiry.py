"""Issue 5, acceptance 6: expiry. An object PUT with X-Delete-After: 2 is
gone from GET as soon as its time passes, and from the listings once the
expirers (running in every node's daemons) have removed it; every replica
then holds a tombstone. Its neighbour without an expiry stays.
"""
import time

import breakage
import probe
from swiftclient.exceptions import ClientException


def test_expired_object_leaves_get_then_listings(cluster):
    probe.require(probe.binary('kura-expirer'))
    conn = cluster.swift()
    conn.put_container('c')
    conn.put_object('c', 'keep', b'stays')
    put_at = time.time()
    conn.put_object('c', 'brief', b'two seconds',
                    headers={'X-Delete-After': '2'})
    account = cluster.account

    def gone_from_get():
        try:
            conn.head_object('c', 'brief')
            return False
        except ClientException as e:
            assert e.http_status == 404, e
            return True
    probe.wait_until(gone_from_get, 60, 'GET of the expired object 404')
    # X-Delete-At is whole seconds: the proxy's clock plus 2, truncated
    assert time.time() - put_at >= 1, 'gone before its time'

    cpath = '%s/c' % account
    cpart, cdevs = cluster.primaries([cpath])[cpath]

    def gone_from_listings():
        lists = [breakage.container_listing(d, cpart, account, 'c')
                 for d in cdevs]
        return all(lst == ['keep'] for lst in lists)
    probe.wait_until(gone_from_listings, 120,
                     'the expirer removes it from every listing')
    assert [o['name'] for o in conn.get_container('c')[1]] == ['keep']

    path = '%s/c/brief' % account
    bad = cluster.missing([path], lambda p, h: 'present')
    assert len(bad) == 3 and all(why == 404 for _, _, why in bad), bad
    for _, (status, headers) in cluster.replicas_of(account, 'c',
                                                    'brief').items():
        assert status == 404 and headers.get('x-backend-timestamp'), headers
    assert conn.get_object('c', 'keep')[1] == b'stays'
