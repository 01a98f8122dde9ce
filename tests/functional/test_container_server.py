"""Functional tests for kura-container-server: Swift 2.30's container
backend API driven over HTTP on 127.0.0.1 (temp dirs as devices).

Listing bodies are compared byte for byte with what Swift 2.30's own
brokers and formatters give for the same rows (tests/unit/data/storage:
listing_cases.json and listings/NNN.out, made by make_swift_listings.py).

Run with: /usr/bin/python3 -m pytest tests/functional/test_container_server.py
"""
import concurrent.futures
import json
import os
import time

import pytest

from db_servers import (ACCOUNT_SERVER, CONTAINER_SERVER, DATA, Server, ts)
from swift_oracle import SwiftOracle

pytestmark = pytest.mark.skipif(
    not os.access(CONTAINER_SERVER, os.X_OK),
    reason='kura-container-server not built: ' + CONTAINER_SERVER)


@pytest.fixture
def cs(tmp_path):
    s = Server(CONTAINER_SERVER, 'container', tmp_path).start()
    yield s
    s.stop()


def put_container(cs, path='/sda/1/a/c', t=1, headers=None):
    h = {'X-Timestamp': ts(t)}
    h.update(headers or {})
    return cs.request('PUT', path, h)


def put_row(cs, name, t, size=10, ctype='text/plain', etag='e' * 32,
            container='/sda/1/a/c', headers=None):
    h = {'X-Timestamp': ts(t) if not isinstance(t, str) else t,
         'X-Size': str(size), 'X-Content-Type': ctype, 'X-Etag': etag,
         'X-Backend-Storage-Policy-Index': '0'}
    h.update(headers or {})
    return cs.request('PUT', container + '/' + name, h)


def test_lifecycle(cs):
    st, h, _ = put_container(cs, t=100)
    assert st == 201
    assert h['x-backend-storage-policy-index'] == '0'
    assert put_container(cs, t=101)[0] == 202
    st, h, body = cs.request('HEAD', '/sda/1/a/c')
    assert st == 204 and body == b''
    assert h['x-container-object-count'] == '0'
    assert h['x-container-bytes-used'] == '0'
    assert h['x-timestamp'] == ts(100)
    assert h['x-put-timestamp'] == ts(101)
    assert h['x-backend-timestamp'] == ts(100)
    assert h['x-backend-put-timestamp'] == ts(101)
    assert h['x-backend-delete-timestamp'] == '0000000000.00000'
    assert h['x-backend-status-changed-at'] == ts(100)
    assert h['content-type'] == 'text/plain; charset=utf-8'
    assert h['last-modified'] == 'Thu, 01 Jan 1970 00:01:41 GMT'
    st, h, _ = cs.request('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(102)})
    assert st == 204
    st, h, _ = cs.request('HEAD', '/sda/1/a/c')
    assert st == 404
    # deleted: only the backend timestamps, as Swift's gen_resp_headers
    assert h['x-backend-delete-timestamp'] == ts(102)
    assert h['x-backend-put-timestamp'] == ts(101)
    assert h['x-backend-status-changed-at'] == ts(102)
    assert 'x-container-object-count' not in h
    assert cs.request('GET', '/sda/1/a/c')[0] == 404
    # a second DELETE of a deleted container, and of one never made
    assert cs.request('DELETE', '/sda/1/a/c',
                      {'X-Timestamp': ts(103)})[0] == 404
    assert cs.request('DELETE', '/sda/1/a/nope',
                      {'X-Timestamp': ts(103)})[0] == 404
    st, h, _ = cs.request('HEAD', '/sda/1/a/nope')
    assert st == 404 and h['x-backend-put-timestamp'] == '0000000000.00000'
    # an older PUT does not revive it; a newer one does (201: recreated)
    assert put_container(cs, t=101.5)[0] == 409
    assert put_container(cs, t=104)[0] == 201
    st, h, _ = cs.request('HEAD', '/sda/1/a/c')
    assert st == 204 and h['x-backend-status-changed-at'] == ts(104)


def test_object_rows_and_stats(cs):
    put_container(cs)
    assert put_row(cs, 'o1', 10, size=100)[0] == 201
    assert put_row(cs, 'o2', 11, size=50)[0] == 201
    assert put_row(cs, 'dir/o3', 12, size=7)[0] == 201
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert (h['x-container-object-count'], h['x-container-bytes-used']) == \
        ('3', '157')
    # overwrite: newer wins, older is ignored
    put_row(cs, 'o1', 20, size=1)
    put_row(cs, 'o1', 15, size=999)
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert h['x-container-bytes-used'] == '58'
    # delete rows; an older delete than the row is ignored
    assert cs.request('DELETE', '/sda/1/a/c/o2',
                      {'X-Timestamp': ts(5)})[0] == 204
    assert cs.request('DELETE', '/sda/1/a/c/o1',
                      {'X-Timestamp': ts(30)})[0] == 204
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert (h['x-container-object-count'], h['x-container-bytes-used']) == \
        ('2', '57')
    body = json.loads(cs.request('GET', '/sda/1/a/c', query='format=json')[2])
    assert [(o['name'], o['bytes']) for o in body] == \
        [('dir/o3', 7), ('o2', 50)]
    # content type and meta updates as the object server sends after POST
    put_row(cs, 'o2', 11, ctype='image/png', headers={
        'X-Content-Type-Timestamp': ts(40), 'X-Meta-Timestamp': ts(41)})
    body = json.loads(cs.request('GET', '/sda/1/a/c', query='format=json')[2])
    assert body[1]['content_type'] == 'image/png'
    assert body[1]['last_modified'] == '1970-01-01T00:00:41.000000'
    # rows for a container that does not exist: 404
    assert put_row(cs, 'x', 1, container='/sda/1/a/none')[0] == 404
    assert cs.request('DELETE', '/sda/1/a/none/x',
                      {'X-Timestamp': ts(1)})[0] == 404


def test_delete_nonempty_409(cs):
    put_container(cs)
    put_row(cs, 'o', 2)
    st, _, _ = cs.request('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(3)})
    assert st == 409
    assert cs.request('HEAD', '/sda/1/a/c')[0] == 204
    cs.request('DELETE', '/sda/1/a/c/o', {'X-Timestamp': ts(4)})
    assert cs.request('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(5)})[0] == 204


def test_limit_over_10000_412(cs):
    put_container(cs)
    st, h, body = cs.request('GET', '/sda/1/a/c', query='limit=10001')
    assert st == 412 and body == b'Maximum limit is 10000'
    assert cs.request('GET', '/sda/1/a/c', query='limit=10000')[0] == 204
    assert cs.request('GET', '/sda/1/a/c', query='limit=00000001')[0] == 204
    assert cs.request('GET', '/sda/1/a/c',
                      query='limit=99999999999999999999999')[0] == 412
    # not digits: ignored, as constrain_req_limit
    assert cs.request('GET', '/sda/1/a/c', query='limit=-1')[0] == 204
    st, _, body = cs.request('GET', '/sda/1/a/c', query='delimiter=ab')
    assert st == 412 and body == b'Bad delimiter'


def test_missing_timestamp_400(cs):
    for method, path in (('PUT', '/sda/1/a/c'), ('DELETE', '/sda/1/a/c'),
                         ('POST', '/sda/1/a/c'), ('PUT', '/sda/1/a/c/o'),
                         ('DELETE', '/sda/1/a/c/o')):
        st, _, body = cs.request(method, path)
        assert (st, body) == (400, b'Missing X-Timestamp header'), (method, path)
    st, _, _ = cs.request('PUT', '/sda/1/a/c', {'X-Timestamp': 'garbage'})
    assert st == 400
    assert cs.request('PUT', '/sda/x/a/c', {'X-Timestamp': ts(1)})[0] == 400
    assert cs.request('GET', '/sda/1/a')[0] == 400


def test_missing_device_507(cs):
    st, h, _ = cs.request('PUT', '/nodev/1/a/c', {'X-Timestamp': ts(1)})
    assert st == 507
    assert cs.request('HEAD', '/nodev/1/a/c')[0] == 507
    assert cs.request('GET', '/nodev/1/a/c')[0] == 507
    assert put_row(cs, 'o', 1, container='/nodev/1/a/c')[0] == 507
    assert not os.path.exists(os.path.join(cs.devices, 'nodev'))


def test_metadata_set_remove(cs):
    put_container(cs, headers={'X-Container-Meta-Color': 'blue',
                               'X-Container-Read': '.r:*',
                               'X-Container-Sysmeta-Thing': 's',
                               'X-Object-Meta-Not-Stored': 'x'})
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert h['x-container-meta-color'] == 'blue'
    assert h['x-container-read'] == '.r:*'
    assert h['x-container-sysmeta-thing'] == 's'
    assert 'x-object-meta-not-stored' not in h
    st, _, _ = cs.request('POST', '/sda/1/a/c', {
        'X-Timestamp': ts(2), 'X-Container-Meta-Color': '',
        'x-container-meta-shape': 'round'})
    assert st == 204
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert 'x-container-meta-color' not in h
    assert h['x-container-meta-shape'] == 'round'
    assert h['x-put-timestamp'] == ts(2)
    # an older update loses
    cs.request('POST', '/sda/1/a/c', {'X-Timestamp': ts(1.5),
                                      'X-Container-Meta-Shape': 'square'})
    assert cs.request('HEAD', '/sda/1/a/c')[1]['x-container-meta-shape'] == \
        'round'
    # per-header lengths are the proxy's check; the backend checks the
    # merged map as Swift's validate_metadata, with its messages
    st, _, _ = cs.request('POST', '/sda/1/a/c', {
        'X-Timestamp': ts(3), 'X-Container-Meta-' + 'n' * 129: 'v'})
    assert st == 204
    st, _, body = cs.request('POST', '/sda/1/a/c', {
        'X-Timestamp': ts(4), 'X-Container-Meta-Big': 'v' * 4000})
    assert (st, body) == (400, b'Total metadata too large; max 4096')
    # two live keys so far; 90 is the most (in two POSTs: a request may
    # carry at most 90 headers)
    def post_keys(lo, hi, t):
        h = {'X-Container-Meta-K%d' % i: 'v' for i in range(lo, hi)}
        h['X-Timestamp'] = ts(t)
        return cs.request('POST', '/sda/1/a/c', h)
    assert post_keys(0, 45, 5)[0] == 204
    st, _, body = post_keys(45, 89, 6)
    assert (st, body) == (400, b'Too many metadata items; max 90')
    assert post_keys(45, 88, 6)[0] == 204
    assert cs.request('POST', '/sda/1/a/gone', {'X-Timestamp': ts(3)})[0] == \
        404


def test_trans_id_and_access_log(cs):
    st, h, _ = cs.request('PUT', '/sda/1/a/c', {
        'X-Timestamp': ts(1), 'X-Trans-Id': 'tx0123456789abcdef01234-0000000001'})
    assert 'x-trans-id' not in h  # not echoed, as Swift
    st, h, _ = cs.request('GET', '/sda/1/a/c', {'X-Trans-Id': 'txabc'})
    assert 'x-trans-id' not in h
    for _ in range(50):  # the access line follows the response
        lines = [ln for ln in cs.log_text().splitlines()
                 if ' /sda/1/a/c ' in ln]
        if len(lines) == 2:
            break
        time.sleep(0.02)
    assert len(lines) == 2
    assert ' PUT /sda/1/a/c 201 ' in lines[0] and 'tx0123' in lines[0]


def test_utf8(cs):
    put_container(cs)
    st, _, body = cs.request('GET', '/sda/1/a/c', query='prefix=%FF')
    assert (st, body) == (400, b'"prefix" parameter not valid UTF-8')
    st, _, body = cs.request('PUT', '/sda/1/a/c%FF', {'X-Timestamp': ts(1)},
                             raw=True)
    assert st == 412 and body == b'Invalid UTF8 or contains NULL'
    # names in UTF-8 are fine
    assert put_row(cs, '\u00e9t\u00e9/\U0001f600', 2)[0] == 201
    body = json.loads(cs.request('GET', '/sda/1/a/c', query='format=json')[2])
    assert body[0]['name'] == '\u00e9t\u00e9/\U0001f600'


@pytest.mark.parametrize('accept,fmt,expect', [
    (None, None, 'text/plain'),
    ('application/json', None, 'application/json'),
    ('application/xml', None, 'application/xml'),
    ('text/xml', None, 'text/xml'),
    ('*/*', None, 'text/plain'),
    ('application/*', None, 'application/json'),
    ('text/xml;q=0.5, application/json;q=0.9', None, 'application/json'),
    ('application/json', 'xml', 'application/xml'),
    ('application/xml', 'json', 'application/json'),
    ('application/json', 'plain', 'text/plain'),
    ('application/json', 'nonsense', 'text/plain'),
    ('image/png', None, 406),
    ('bad header', None, 400),
])
def test_format_and_accept(cs, accept, fmt, expect):
    put_container(cs)
    put_row(cs, 'o', 2)
    headers = {'Accept': accept} if accept else {}
    st, h, body = cs.request('GET', '/sda/1/a/c', headers,
                             query={'format': fmt} if fmt else None)
    if isinstance(expect, int):
        assert st == expect
        return
    assert st == 200
    assert h['content-type'] == expect + '; charset=utf-8'


def test_plain_empty_listing_204(cs):
    put_container(cs)
    st, h, body = cs.request('GET', '/sda/1/a/c')
    assert (st, body) == (204, b'')
    assert h['content-type'] == 'text/plain; charset=utf-8'
    st, h, body = cs.request('GET', '/sda/1/a/c', query='format=json')
    assert (st, body) == (200, b'[]')


def load_cases():
    with open(os.path.join(DATA, 'listing_cases.json')) as f:
        return json.load(f)


def http_safe(v):
    if isinstance(v, dict):
        return all(http_safe(x) for x in v.values())
    return '\x00' not in str(v)


def test_listings_match_swift(cs):
    """Every container query of listing_cases.json (all parameters, the
    three formats) over HTTP, against Swift 2.30's bodies. Reserved names
    (with NUL) cannot travel in a backend path here and are left out."""
    cases = load_cases()
    c = cases['container']
    cont = '/sda/7/%s/%s' % (c['account'], c['container'])
    assert put_container(cs, cont, t=1)[0] == 201
    for o in c['objects']:
        if not http_safe(o['name']):
            continue
        if o.get('deleted'):
            st = cs.request('DELETE', cont + '/' + o['name'],
                            {'X-Timestamp': o['created_at']})[0]
            assert st == 204
            continue
        h = {}
        if o.get('ctype_timestamp'):
            h['X-Content-Type-Timestamp'] = o['ctype_timestamp']
        if o.get('meta_timestamp'):
            h['X-Meta-Timestamp'] = o['meta_timestamp']
        st = put_row(cs, o['name'], o['created_at'], o['size'],
                     o['content_type'], o['etag'], container=cont,
                     headers=h)[0]
        assert st == 201, o
    checked = 0
    for i, q in enumerate(cases['queries']):
        p = q['params']
        if q['kind'] != 'container' or p.get('allow_reserved') or \
                not http_safe(p):
            continue
        query = {'format': q['format']}
        for k, v in p.items():
            query[k] = 'true' if v is True else str(v)
        st, h, body = cs.request('GET', cont, query=query)
        with open(os.path.join(DATA, 'listings', '%03d.out' % i), 'rb') as f:
            want = f.read()
        assert body == want, (i, q)
        assert st == (204 if not want else 200), (i, q)
        checked += 1
    assert checked >= 60


def test_concurrent_rows_share_syncs(cs):
    """16 threads x 50 synced object rows: stats exact; prints the rate."""
    put_container(cs)

    def worker(t):
        for i in range(50):
            st = put_row(cs, 'o-%02d-%03d' % (t, i), 10 + i, size=3)[0]
            assert st == 201
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        list(ex.map(worker, range(16)))
    secs = time.time() - start
    print('RESULT object_row_puts_per_s=%.0f (16 threads, new connection '
          'per request)' % (800 / secs))
    h = cs.request('HEAD', '/sda/1/a/c')[1]
    assert (h['x-container-object-count'], h['x-container-bytes-used']) == \
        ('800', '2400')


@pytest.mark.skipif(not os.access(ACCOUNT_SERVER, os.X_OK),
                    reason='kura-account-server not built')
def test_account_update_sent(tmp_path, cs):
    acs = Server(ACCOUNT_SERVER, 'account', tmp_path).start()
    try:
        assert acs.request('PUT', '/sda/3/AUTH_x',
                           {'X-Timestamp': ts(1)})[0] == 201
        upd = {'X-Account-Host': '127.0.0.1:%d' % acs.port,
               'X-Account-Device': 'sda', 'X-Account-Partition': '3',
               'X-Trans-Id': 'txupdate'}
        st = put_container(cs, '/sda/1/AUTH_x/photos', t=5, headers=upd)[0]
        assert st == 201
        put_row(cs, 'cat.jpg', 6, size=1000, container='/sda/1/AUTH_x/photos')
        rows = json.loads(acs.request('GET', '/sda/3/AUTH_x',
                                      query='format=json')[2])
        assert rows == [{'name': 'photos', 'count': 0, 'bytes': 0,
                         'last_modified': '1970-01-01T00:00:05.000000'}]
        # a second PUT reports the stats the container has now
        assert put_container(cs, '/sda/1/AUTH_x/photos', t=7,
                             headers=upd)[0] == 202
        st, h, body = acs.request('GET', '/sda/3/AUTH_x', query='format=json')
        assert json.loads(body)[0]['count'] == 1
        assert (h['x-account-container-count'], h['x-account-object-count'],
                h['x-account-bytes-used']) == ('1', '1', '1000')
        assert 'txupdate' in acs.log_text()
        # DELETE of the container removes the row from the account
        cs.request('DELETE', '/sda/1/AUTH_x/photos/cat.jpg',
                   {'X-Timestamp': ts(8)})
        st = cs.request('DELETE', '/sda/1/AUTH_x/photos',
                        dict(upd, **{'X-Timestamp': ts(9)}))[0]
        assert st == 204
        st, h, body = acs.request('GET', '/sda/3/AUTH_x', query='format=json')
        assert body == b'[]' and h['x-account-container-count'] == '0'
        # an account that does not exist: every account server says 404
        st = put_container(cs, '/sda/1/AUTH_none/c', t=10, headers=dict(
            upd, **{'X-Account-Partition': '3'}))[0]
        assert st == 404
        # hosts and devices that do not pair up: 400
        st = put_container(cs, '/sda/1/AUTH_x/c2', t=11, headers=dict(
            upd, **{'X-Account-Device': 'sda,sdb'}))[0]
        assert st == 400
    finally:
        acs.stop()


# ---- differential: the same requests against Swift 2.30's own server ----

# created_at is the wall clock at creation in Swift's broker, the PUT's
# X-Timestamp in contdb (doc/container-server.md), so its two headers are
# compared for presence only.
VOLATILE = {'date', 'x-trans-id', 'connection', 'keep-alive'}
PRESENCE = {'x-timestamp', 'x-backend-timestamp'}


def normal_headers(h):
    return {k: ('*' if k in PRESENCE else v) for k, v in h.items()
            if k not in VOLATILE}


DIFF_STEPS = [
    ('HEAD', '/sda/1/a/c', {}, None),
    ('GET', '/sda/1/a/c', {}, None),
    ('PUT', '/sda/1/a/c', {}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(10),
                           'X-Container-Meta-Color': 'blue',
                           'X-Container-Read': '.r:*'}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(11)}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(12),
                           'X-Backend-Storage-Policy-Index': '0'}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(12),
                           'X-Backend-Storage-Policy-Index': '1'}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(12),
                           'X-Backend-Storage-Policy-Index': 'x'}, None),
    ('HEAD', '/sda/1/a/c', {}, None),
    ('GET', '/sda/1/a/c', {}, None),
    ('GET', '/sda/1/a/c', {}, {'format': 'json'}),
    ('GET', '/sda/1/a/c', {'Accept': 'application/xml'}, None),
    ('PUT', '/sda/1/a/c/o1', {'X-Timestamp': ts(13), 'X-Size': '5',
                              'X-Content-Type': 'text/plain',
                              'X-Etag': 'abc',
                              'X-Backend-Storage-Policy-Index': '0'}, None),
    ('PUT', '/sda/1/a/c/d/o2', {'X-Timestamp': ts(14), 'X-Size': '7',
                                'X-Content-Type': 'a/b;swift_bytes=99',
                                'X-Etag': 'def',
                                'X-Backend-Storage-Policy-Index': '0'}, None),
    ('HEAD', '/sda/1/a/c', {}, None),
    ('GET', '/sda/1/a/c', {}, {'format': 'json'}),
    ('GET', '/sda/1/a/c', {}, {'delimiter': '/'}),
    ('GET', '/sda/1/a/c', {}, {'format': 'xml', 'prefix': 'd/'}),
    ('GET', '/sda/1/a/c', {'Accept': 'text/xml'}, {'reverse': 'on'}),
    ('GET', '/sda/1/a/c', {}, {'path': 'd'}),
    ('GET', '/sda/1/a/c', {}, {'limit': '10001'}),
    ('GET', '/sda/1/a/c', {}, {'limit': '1', 'marker': 'a'}),
    ('GET', '/sda/1/a/c', {'Accept': 'image/png'}, None),
    ('GET', '/sda/1/a/c', {}, {'prefix': 'zz'}),
    ('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(15)}, None),
    ('POST', '/sda/1/a/c', {'X-Timestamp': ts(16),
                            'X-Container-Meta-Color': '',
                            'X-Container-Meta-Size': 'L'}, None),
    ('HEAD', '/sda/1/a/c', {}, None),
    ('DELETE', '/sda/1/a/c/o1', {'X-Timestamp': ts(17)}, None),
    ('DELETE', '/sda/1/a/c/d/o2', {'X-Timestamp': ts(17)}, None),
    ('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(18)}, None),
    ('HEAD', '/sda/1/a/c', {}, None),
    ('GET', '/sda/1/a/c', {}, None),
    ('POST', '/sda/1/a/c', {'X-Timestamp': ts(19)}, None),
    ('DELETE', '/sda/1/a/c', {'X-Timestamp': ts(20)}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': ts(21)}, None),
    ('HEAD', '/sda/1/a/c', {}, None),
    ('PUT', '/sda/1/a/none/o', {'X-Timestamp': ts(22), 'X-Size': '1',
                                'X-Content-Type': 'x/y', 'X-Etag': 'e'},
     None),
    ('DELETE', '/sda/1/a/none', {'X-Timestamp': ts(22)}, None),
    ('GET', '/sda/1/a', {}, None),
    ('PUT', '/sda/1/a/c', {'X-Timestamp': 'garbage'}, None),
]


def test_same_as_swift(cs, tmp_path):
    """Each step against kura-container-server and Swift 2.30's
    ContainerController: same status, body and headers."""
    app = SwiftOracle('container', str(tmp_path / 'swift'))
    for i, (method, path, headers, query) in enumerate(DIFF_STEPS):
        k = cs.request(method, path, headers, query)
        s = app.request(method, path, headers, query)
        assert k[0] == s[0], (i, method, path, k, s)
        assert k[2] == s[2], (i, method, path, k[2], s[2])
        kh, sh = normal_headers(k[1]), normal_headers(s[1])
        if method == 'HEAD' or k[0] == 204:
            # swob sends Content-Length: 0 on HEAD and 204; libmicrohttpd
            # sends none with a 204 (RFC 9110 forbids it)
            kh.pop('content-length', None)
            sh.pop('content-length', None)
        assert kh == sh, (i, method, path)


# ---- Swift 2.30's proxy and object server in front of both servers ----

SWIFT_PROXY_CONF = '''[DEFAULT]
bind_ip = 127.0.0.1
bind_port = %(port)d
swift_dir = %(etc)s
user = root
log_level = WARNING
[pipeline:main]
pipeline = catch_errors proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:proxy-logging]
use = egg:swift#proxy_logging
'''
SWIFT_OBJECT_CONF = '''[DEFAULT]
bind_ip = 127.0.0.1
bind_port = %(port)d
devices = %(devices)s
mount_check = false
swift_dir = %(etc)s
user = root
log_level = WARNING
[pipeline:main]
pipeline = object-server
[app:object-server]
use = egg:swift#object
'''


def run_swift_wsgi(conf, name):
    import subprocess
    import sys
    code = ('import sys; from swift.common.wsgi import run_wsgi; '
            'sys.exit(run_wsgi(%r, %r))' % (conf, name))
    return subprocess.Popen([sys.executable, '-c', code],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_port(port):
    # Swift's servers take seconds to import on a busy 2-core machine
    import socket
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError('port %d never opened' % port)


@pytest.mark.skipif(not os.access(ACCOUNT_SERVER, os.X_OK),
                    reason='kura-account-server not built')
def test_behind_swift_proxy(tmp_path):
    """Swift 2.30's proxy (with Swift's object server) fronts Kura's
    container and account servers: the client sees Swift's behaviour."""
    import shutil
    import subprocess
    import urllib.request
    from db_servers import free_port
    if not shutil.which('swift-ring-builder') or \
            not os.path.exists('/etc/swift/swift.conf'):
        pytest.skip('swift-ring-builder or /etc/swift/swift.conf missing')
    import importlib.util
    if importlib.util.find_spec('swift') is None:   # never import it here
        pytest.skip('python3-swift not installed')
    kc = Server(CONTAINER_SERVER, 'container', tmp_path)
    ka = Server(ACCOUNT_SERVER, 'account', tmp_path)
    etc = str(tmp_path / 'swift-etc')
    os.makedirs(etc)
    # one swift.conf for all: the object server and proxy read the hash
    # path from it, and our servers must agree
    shutil.copy('/etc/swift/swift.conf', etc)
    for srv in (kc, ka):
        shutil.copy('/etc/swift/swift.conf',
                    os.path.join(os.path.dirname(srv.conf), 'swift.conf'))
    devices = str(tmp_path / 'objdevs')
    os.makedirs(os.path.join(devices, 'sda'))
    oport, pport = free_port(), free_port()
    for ring, port in (('account', ka.port), ('container', kc.port),
                       ('object', oport)):
        b = os.path.join(etc, ring + '.builder')
        subprocess.run(['swift-ring-builder', b, 'create', '4', '1', '1'],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['swift-ring-builder', b, 'add',
                        'r1z1-127.0.0.1:%d/sda' % port, '100'],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['swift-ring-builder', b, 'rebalance'],
                       stdout=subprocess.DEVNULL)
    with open(os.path.join(etc, 'object-server.conf'), 'w') as f:
        f.write(SWIFT_OBJECT_CONF % {'port': oport, 'devices': devices,
                                     'etc': etc})
    with open(os.path.join(etc, 'proxy-server.conf'), 'w') as f:
        f.write(SWIFT_PROXY_CONF % {'port': pport, 'etc': etc})
    procs = []
    try:
        kc.start()
        ka.start()
        procs.append(run_swift_wsgi(os.path.join(etc, 'object-server.conf'),
                                    'object-server'))
        procs.append(run_swift_wsgi(os.path.join(etc, 'proxy-server.conf'),
                                    'proxy-server'))
        wait_port(oport)
        wait_port(pport)
        url = 'http://127.0.0.1:%d/v1/AUTH_test' % pport

        def call(method, path='', data=None, headers=None):
            req = urllib.request.Request(url + path, data=data,
                                         method=method,
                                         headers=headers or {})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read()

        assert call('PUT', '/photos', headers={
            'X-Container-Meta-Color': 'blue'})[0] == 201
        assert call('PUT', '/photos/cat.txt', b'hello')[0] == 201
        assert call('PUT', '/photos/dir/dog.txt', b'hello2')[0] == 201
        st, h, body = call('GET', '/photos?format=json')
        names = [(o['name'], o['bytes'], o['hash'])
                 for o in json.loads(body)]
        assert names == [('cat.txt', 5, '5d41402abc4b2a76b9719d911017c592'),
                         ('dir/dog.txt', 6,
                          '6e809cbda0732ac4845916a59016f954')]
        assert call('GET', '/photos?delimiter=/')[2] == b'cat.txt\ndir/\n'
        st, h, _ = call('HEAD', '/photos')
        assert (h['X-Container-Object-Count'], h['X-Container-Bytes-Used'],
                h['X-Container-Meta-Color']) == ('2', '11', 'blue')
        # a POST's new content type reaches the row (ctype timestamps)
        assert call('POST', '/photos/cat.txt', headers={
            'Content-Type': 'image/png'})[0] == 202
        body = json.loads(call('GET', '/photos?format=json&prefix=cat')[2])
        assert body[0]['content_type'] == 'image/png'
        assert call('DELETE', '/photos')[0] == 409
        st, _, body = call('GET', '?format=json')
        assert [c['name'] for c in json.loads(body)] == ['photos']
        assert call('DELETE', '/photos/cat.txt')[0] == 204
        assert call('DELETE', '/photos/dir/dog.txt')[0] == 204
        assert call('DELETE', '/photos')[0] == 204
        assert call('GET', '?format=json')[2] == b'[]'
        assert call('HEAD', '/photos')[0] == 404
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        kc.stop()
        ka.stop()
