"""Acceptance tests of the Swift API v1 proxy with tempauth: the real
`swift` CLI (python3-swiftclient) and raw HTTP against a whole cluster.

Every expectation here is OpenStack Swift 2.30's own behaviour: the file
passes with KURA_TEST_TARGET=swift (a real Swift cluster, cluster.py), and
kura-proxy must pass it unchanged (the default target, `kura aio`). Bodies,
header sets and listing formats are compared exactly where Swift is
byte-precise; values that vary by nature (timestamps, transaction ids,
tokens, per-replica X-Timestamp of containers) by their shape.

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider \
         tests/functional/test_swift_api.py
Knobs: KURA_TEST_TARGET (kura|swift), KURA_TEST_BIG_MB (size of the big
object, default 1024), KURA_TEST_LISTING_OBJECTS (default 10050).
"""
import calendar
import email.utils
import hashlib
import json
import math
import os
import re
import struct
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from cluster import BIG_MB, TARGET, USERS, cluster  # noqa: F401 (fixture)

LISTING_OBJECTS = int(os.environ.get('KURA_TEST_LISTING_OBJECTS', '10050'))

# The tests kura-proxy did not pass yet when this file was written (all
# pass against Swift 2.30). On the kura target they are expected failures,
# so that the suite stays green while the proxy catches up; pytest says
# XPASS when one passes: then take it off this list. KURA_TEST_STRICT=1
# runs them as ordinary tests.
KURA_NOT_YET = set()


@pytest.fixture(autouse=True)
def kura_not_yet(request):
    if TARGET == 'kura' and request.node.name in KURA_NOT_YET and \
            not os.environ.get('KURA_TEST_STRICT'):
        request.applymarker(pytest.mark.xfail(
            reason='kura-proxy does not answer as Swift 2.30 here yet',
            strict=False))

HTML = 'text/html; charset=UTF-8'
TX_RE = re.compile(r'^tx[0-9a-f]{21}-[0-9a-f]{10}$')
HTTP_DATE_RE = re.compile(
    r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d '
    r'(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} '
    r'\d\d:\d\d:\d\d GMT$')
X_TIMESTAMP_RE = re.compile(r'^\d{10}\.\d{5}$')
ISO_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')
MD5_RE = re.compile(r'^[0-9a-f]{32}$')

# Swift's default error pages (swob), byte for byte.
BODY = {
    202: b'<html><h1>Accepted</h1><p>The request is accepted for '
         b'processing.</p></html>',
    400: b'<html><h1>Bad Request</h1><p>The server could not comply with '
         b'the request since it is either malformed or otherwise '
         b'incorrect.</p></html>',
    401: b'<html><h1>Unauthorized</h1><p>This server could not verify that '
         b'you are authorized to access the document you requested.</p>'
         b'</html>',
    403: b'<html><h1>Forbidden</h1><p>Access was denied to this resource.'
         b'</p></html>',
    404: b'<html><h1>Not Found</h1><p>The resource could not be found.</p>'
         b'</html>',
    405: b'<html><h1>Method Not Allowed</h1><p>The method is not allowed '
         b'for this resource.</p></html>',
    406: b'<html><h1>Not Acceptable</h1><p>The resource is not available in '
         b'a format acceptable to your browser.</p></html>',
    409: b'<html><h1>Conflict</h1><p>There was a conflict when trying to '
         b'complete your request.</p></html>',
    412: b'<html><h1>Precondition Failed</h1><p>A precondition for this '
         b'request was not met.</p></html>',
    416: b'<html><h1>Requested Range Not Satisfiable</h1><p>The Range '
         b'requested is not available.</p></html>',
    422: b'<html><h1>Unprocessable Entity</h1><p>Unable to process the '
         b'contained instructions</p></html>',
}

# Headers every proxy response carries besides its own.
COMMON = {'x-trans-id', 'x-openstack-request-id', 'date'}
# Hop-by-hop headers an HTTP server may add; not part of the API.
HOP = {'connection', 'keep-alive'}


def check_common(h):
    assert TX_RE.match(h.get('x-trans-id', '')), h
    assert h['x-openstack-request-id'] == h['x-trans-id'], h
    assert HTTP_DATE_RE.match(h['date']), h


def names(h):
    return set(h) - HOP


def expect(resp, status, body=None, ctype=None):
    """Status, the body (exactly, or one of BODY when True) and the
    Content-Type of a response; every response has a transaction id."""
    st, h, b = resp
    assert st == status, resp
    check_common(h)
    if body is True:
        body = BODY[status]
    if body is not None:
        assert b == body, resp
        assert h.get('content-length') == str(len(body)), resp
    if ctype is not None:
        assert h.get('content-type') == ctype, resp
    return resp


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def last_modified_of(x_timestamp):
    """Swift's Last-Modified: the X-Timestamp rounded up to the second."""
    return http_date(math.ceil(float(x_timestamp)))


def wait_for(fn, timeout=60, interval=0.5):
    """Polls fn() until it returns something true; returns the last value.
    Account stats reach the account server asynchronously (Swift's
    container-updater), so those checks poll."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(interval)


def put(c, container, obj=None, body=b'', headers=None, auth=True):
    st, h, b = c.http('PUT', c.path(container, obj), headers, body, auth)
    assert st in (201, 202), (container, obj, st, h, b)
    return h


def q(s):
    return urllib.parse.quote(s, safe='')


# -- auth, /info, /healthcheck ----------------------------------------------

def test_auth_v1(cluster):
    c = cluster
    for hdrs in ({'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'},
                 {'X-Storage-User': 'test:tester',
                  'X-Storage-Pass': 'testing'}):
        st, h, b = expect(c.http('GET', '/auth/v1.0', hdrs, auth=False), 200,
                          b'', HTML)
        assert names(h) == COMMON | {
            'content-type', 'content-length', 'x-auth-token',
            'x-storage-token', 'x-auth-token-expires', 'x-storage-url'}, h
        assert re.match(r'^AUTH_tk[0-9a-f]{32}$', h['x-auth-token']), h
        assert h['x-storage-token'] == h['x-auth-token']
        assert 0 < int(h['x-auth-token-expires']) <= 86400
        assert h['x-storage-url'] == 'http://%s:%d/v1/AUTH_test' % (
            c.host, c.port)
    # tempauth hands out the user's live token again
    assert h['x-auth-token'] == c.token
    # the token works, and the other users get their own accounts
    expect(c.http('PUT', c.path('authcheck')), 201)
    expect(c.http('HEAD', c.account_path), 204)
    for user, account in (('test2:tester2', 'AUTH_test2'),
                          ('test:tester3', 'AUTH_test'),
                          ('admin:admin', 'AUTH_admin')):
        token, path = c.user_session(user)
        assert path == '/v1/' + account
        assert token != c.token

    # the realm tempauth names: the account when the user is unknown or
    # has no key, "unknown" for a wrong key or no account:user at all
    bad = [({'X-Auth-User': 'test:tester', 'X-Auth-Key': 'wrong'},
            'unknown'),
           ({'X-Storage-User': 'test:tester', 'X-Storage-Pass': 'wrong'},
            'unknown'),
           ({'X-Auth-User': 'test:nobody', 'X-Auth-Key': 'testing'}, 'test'),
           ({'X-Auth-User': 'test:tester'}, 'test'),
           ({'X-Auth-User': 'tester', 'X-Auth-Key': 'testing'}, 'unknown'),
           ({}, 'unknown')]
    for hdrs, realm in bad:
        st, h, b = expect(c.http('GET', '/auth/v1.0', hdrs, auth=False),
                          401, True, HTML)
        assert h['www-authenticate'] == 'Swift realm="%s"' % realm, hdrs
    # X-Auth-User with X-Storage-Pass mixes fine
    expect(c.http('GET', '/auth/v1.0', {'X-Auth-User': 'test:tester',
                                        'X-Storage-Pass': 'testing'},
                  auth=False), 200)


def test_unauthorized(cluster):
    c = cluster
    for auth in (False, 'AUTH_tk' + '0' * 32, 'garbage'):
        for method in ('GET', 'HEAD', 'PUT', 'POST', 'DELETE'):
            for path in (c.account_path, c.path('c401'),
                         c.path('c401', 'o')):
                if path == c.account_path and method in ('PUT', 'DELETE') \
                        and not str(auth).startswith('AUTH_'):
                    # allow_account_management is off: 405 before any
                    # authorization, unless tempauth refused a token of
                    # its own (AUTH_ prefix) already
                    st, h, b = expect(c.http(method, path, auth=auth), 405,
                                      BODY[405], HTML)
                    assert set(h['allow'].split(', ')) == {
                        'POST', 'GET', 'HEAD', 'OPTIONS'}
                    continue
                st, h, b = expect(c.http(method, path, auth=auth), 401,
                                  None if method == 'HEAD' else True, HTML)
                assert h['www-authenticate'] == 'Swift realm="AUTH_test"'
                if method == 'HEAD':
                    assert b == b''
    # nothing was created
    expect(c.http('HEAD', c.path('c401')), 404)


def test_info(cluster):
    st, h, b = expect(cluster.http('GET', '/info', auth=False), 200,
                      ctype='application/json; charset=UTF-8')
    assert names(h) == COMMON | {'content-type', 'content-length'}
    info = json.loads(b)
    s = info['swift']
    expected = {
        'max_file_size': 5368709122,
        'max_meta_name_length': 128,
        'max_meta_value_length': 256,
        'max_meta_count': 90,
        'max_meta_overall_size': 4096,
        'max_header_size': 8192,
        'max_object_name_length': 1024,
        'container_listing_limit': 10000,
        'account_listing_limit': 10000,
        'max_account_name_length': 256,
        'max_container_name_length': 256,
        'extra_header_count': 0,
        'strict_cors_mode': True,
        'allow_account_management': False,
        'account_autocreate': True,
    }
    for k, v in expected.items():
        assert s[k] == v, (k, s)
    assert 'version' in s
    # disallowed_sections defaults to swift.valid_api_versions
    assert 'valid_api_versions' not in s
    assert [p['name'] for p in s['policies']] == ['Policy-0']
    assert s['policies'][0]['default'] is True
    assert info['tempauth'] == {'account_acls': True}
    if TARGET == 'kura':  # Swift's test pipeline has no slo
        assert info['slo'] == {
            'max_manifest_segments': 1000, 'max_manifest_size': 8388608,
            'yield_frequency': 10, 'min_segment_size': 1,
            'allow_async_delete': False}
    # /info needs no token, and HEAD works too
    st, h, b = expect(cluster.http('HEAD', '/info', auth=False), 200)
    assert b == b''
    # an admin signature that cannot match: 403
    expect(cluster.http('GET', '/info?swiftinfo_sig=x&swiftinfo_expires=1',
                        auth=False), 403, True, HTML)


def test_healthcheck(cluster):
    st, h, b = expect(cluster.http('GET', '/healthcheck', auth=False), 200,
                      b'OK', 'text/plain')
    assert names(h) == COMMON | {'content-type', 'content-length'}
    st, h, b = expect(cluster.http('HEAD', '/healthcheck', auth=False), 200)
    assert b == b'' and h['content-length'] == '2'


def test_trans_id_on_every_response(cluster):
    c = cluster
    put(c, 'txid')
    seen = set()
    for method, path, hdrs, auth, status in [
            ('GET', '/info', None, False, 200),
            ('GET', '/healthcheck', None, False, 200),
            ('GET', '/auth/v1.0', {'X-Auth-User': 'x', 'X-Auth-Key': 'y'},
             False, 401),
            ('GET', c.path('txid'), None, True, 204),
            ('GET', c.path('txid'), None, False, 401),
            ('GET', c.path('txid', 'nope'), None, True, 404),
            ('HEAD', c.path('txid', 'nope'), None, True, 404),
            ('PUT', c.path('txid', 'o'), {'Content-Length': '0'}, True, 201),
            ('GET', c.path('txid', 'o'), {'If-Match': 'x'}, True, 412),
            ('GET', c.path('txid', 'o'), {'Range': 'bytes=5-'}, True, 416),
            ('PUT', c.path('x' * 257), {'Content-Length': '0'}, True, 400),
            ('DELETE', c.path('txid'), None, True, 409),
            ('GET', '/', None, False, 404),
            ('GET', '/v1', None, False, 412),
            ('GET', '/v2/AUTH_test', None, True, 400)]:
        st, h, b = c.http(method, path, hdrs, auth=auth)
        assert st == status, (method, path, st, h, b)
        check_common(h)
        seen.add(h['x-trans-id'])
    assert len(seen) == 15
    # a client's X-Trans-Id-Extra is appended to the id
    st, h, b = c.http('GET', c.path('txid'), {'X-Trans-Id-Extra': 'mine'})
    assert re.match(r'^tx[0-9a-f]{21}-[0-9a-f]{10}-mine$', h['x-trans-id'])


# -- objects: upload, download, stat, metadata, delete ---------------------

def test_object_put_get_head_headers(cluster):
    c = cluster
    put(c, 'objs')
    data = b'hello world'
    etag = hashlib.md5(data).hexdigest()
    st, h, b = expect(c.http('PUT', c.path('objs', 'a/b c'), {
        'Content-Type': 'text/x-test', 'X-Object-Meta-Color': 'Red'}, data),
        201, b'', HTML)
    assert names(h) == COMMON | {'content-type', 'content-length', 'etag',
                                 'last-modified'}
    # ETags are bare hex, never quoted
    assert h['etag'] == etag
    assert HTTP_DATE_RE.match(h['last-modified'])

    st, h, b = expect(c.http('GET', c.path('objs', 'a/b c')), 200, data,
                      'text/x-test')
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'etag', 'last-modified',
        'x-timestamp', 'accept-ranges', 'x-object-meta-color'}
    assert h['etag'] == etag
    assert h['accept-ranges'] == 'bytes'
    assert h['x-object-meta-color'] == 'Red'
    assert X_TIMESTAMP_RE.match(h['x-timestamp'])
    assert h['last-modified'] == last_modified_of(h['x-timestamp'])
    get_headers = h

    st, h, b = expect(c.http('HEAD', c.path('objs', 'a/b c')), 200)
    assert b == b''
    h.pop('date'), get_headers.pop('date')
    for k in ('x-trans-id', 'x-openstack-request-id'):
        h.pop(k), get_headers.pop(k)
    assert h == get_headers

    # no Content-Type: Swift guesses from the name, else octet-stream
    put(c, 'objs', 'page.html', b'<p>')
    put(c, 'objs', 'noext', b'x')
    assert c.http('HEAD', c.path('objs', 'page.html'))[1][
        'content-type'] == 'text/html'
    assert c.http('HEAD', c.path('objs', 'noext'))[1][
        'content-type'] == 'application/octet-stream'

    # zero bytes, chunked transfer encoding
    st, h, b = expect(c.http('PUT', c.path('objs', 'empty'), body=b''), 201)
    assert h['etag'] == hashlib.md5(b'').hexdigest()
    st, h, b = expect(c.http('PUT', c.path('objs', 'chunked'),
                             {'Transfer-Encoding': 'chunked'},
                             b'5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), 201)
    assert h['etag'] == hashlib.md5(b'hello world').hexdigest()
    expect(c.http('GET', c.path('objs', 'chunked')), 200, b'hello world')

    # a correct ETag is accepted (quoted too)
    expect(c.http('PUT', c.path('objs', 'etag'), {'ETag': etag}, data), 201)
    expect(c.http('PUT', c.path('objs', 'etag'), {'ETag': '"%s"' % etag},
                  data), 201)

    # overwrite: newer data and metadata win
    put(c, 'objs', 'a/b c', b'v2', {'X-Object-Meta-Other': '1'})
    st, h, b = expect(c.http('GET', c.path('objs', 'a/b c')), 200, b'v2')
    assert 'x-object-meta-color' not in h
    assert h['x-object-meta-other'] == '1'
    assert h['content-type'] == 'application/octet-stream'

    # odd names: unicode, dots, leading slash, trailing slash
    for name in ('caf\u00e9/\u65e5\u672c', '..', 'a/./b', '/lead',
                 'trail/', 'sp ace%20+plus', 'q?x=1#frag'):
        put(c, 'objs', name, name.encode())
        expect(c.http('GET', c.path('objs', name)), 200, name.encode())
    st, h, b = c.http('GET', c.path('objs') + '?format=json&prefix=%2Flead')
    assert [o['name'] for o in json.loads(b)] == ['/lead']


def test_object_delete(cluster):
    c = cluster
    put(c, 'dels')
    put(c, 'dels', 'o', b'x')
    st, h, b = expect(c.http('DELETE', c.path('dels', 'o')), 204, b'', HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    expect(c.http('GET', c.path('dels', 'o')), 404, True, HTML)
    st, h, b = expect(c.http('HEAD', c.path('dels', 'o')), 404)
    assert b == b'' and h['content-length'] == '0'
    expect(c.http('DELETE', c.path('dels', 'o')), 404, True, HTML)
    # missing container
    expect(c.http('DELETE', c.path('nosuchcontainer', 'o')), 404, True)
    expect(c.http('PUT', c.path('nosuchcontainer', 'o'), body=b'x'), 404,
           True)
    expect(c.http('GET', c.path('nosuchcontainer', 'o')), 404, True)
    # the listing follows
    st, h, b = c.http('GET', c.path('dels'))
    assert st == 204 and b == b''


def test_object_post_metadata(cluster):
    c = cluster
    put(c, 'meta')
    put(c, 'meta', 'o', b'data', {
        'X-Object-Meta-A': '1', 'X-Object-Meta-B': '2',
        'Content-Type': 'text/x-one', 'Content-Disposition': 'inline',
        'Content-Encoding': 'gzip'})
    st, h, b = expect(c.http('POST', c.path('meta', 'o'), {
        'X-Object-Meta-C': '3', 'X-Object-Meta-Empty': ''}), 202, True, HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    st, h, b = expect(c.http('HEAD', c.path('meta', 'o')), 200)
    # a POST replaces all user metadata (and Content-Disposition/Encoding);
    # an empty value is kept as an empty value on objects
    assert {k: v for k, v in h.items() if k.startswith('x-object-meta-')} \
        == {'x-object-meta-c': '3', 'x-object-meta-empty': ''}
    assert 'content-disposition' not in h and 'content-encoding' not in h
    assert h['content-type'] == 'text/x-one'   # kept unless given
    assert h['etag'] == hashlib.md5(b'data').hexdigest()
    expect(c.http('GET', c.path('meta', 'o')), 200, b'data')
    # X-Remove-Object-Meta-* removes (as would leaving it out)
    expect(c.http('POST', c.path('meta', 'o'), {
        'X-Remove-Object-Meta-C': 'x', 'X-Object-Meta-D': '4',
        'Content-Type': 'text/x-two', 'Content-Disposition': 'attachment'}),
        202)
    st, h, b = c.http('HEAD', c.path('meta', 'o'))
    assert {k: v for k, v in h.items() if k.startswith('x-object-meta-')} \
        == {'x-object-meta-d': '4'}
    assert h['content-type'] == 'text/x-two'
    assert h['content-disposition'] == 'attachment'
    # metadata names are case-insensitive and come back lower-cased title
    expect(c.http('POST', c.path('meta', 'o'),
                  {'x-object-meta-MiXeD-case': 'Value'}), 202)
    st, h, b = c.http('HEAD', c.path('meta', 'o'))
    assert h['x-object-meta-mixed-case'] == 'Value'
    # POST to a missing object: 404
    expect(c.http('POST', c.path('meta', 'nope'),
                  {'X-Object-Meta-A': '1'}), 404, True)
    # unicode metadata values round-trip
    expect(c.http('POST', c.path('meta', 'o'),
                  {'X-Object-Meta-U': '\u00e9t\u00e9'.encode().decode(
                      'latin-1')}), 202)
    st, h, b = c.http('HEAD', c.path('meta', 'o'))
    assert h['x-object-meta-u'].encode('latin-1').decode() == '\u00e9t\u00e9'


def test_container_put_head_post_delete(cluster):
    c = cluster
    st, h, b = expect(c.http('PUT', c.path('cont'), {
        'X-Container-Meta-A': '1', 'X-Container-Meta-B': '2'}), 201, b'',
        HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    # again: 202 Accepted, with the default body
    expect(c.http('PUT', c.path('cont')), 202, True, HTML)
    st, h, b = expect(c.http('HEAD', c.path('cont')), 204)
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'x-container-object-count',
        'x-container-bytes-used', 'x-timestamp', 'last-modified',
        'accept-ranges', 'x-storage-policy', 'vary',
        'x-container-meta-a', 'x-container-meta-b'}, h
    assert h['content-type'] == 'text/plain; charset=utf-8'
    assert h['content-length'] == '0'
    assert h['x-container-object-count'] == '0'
    assert h['x-container-bytes-used'] == '0'
    assert X_TIMESTAMP_RE.match(h['x-timestamp'])
    assert HTTP_DATE_RE.match(h['last-modified'])
    assert h['accept-ranges'] == 'bytes'
    assert h['x-storage-policy'] == 'Policy-0'
    assert h['vary'] == 'Accept'
    assert h['x-container-meta-a'] == '1'
    # POST: 204; updates only what it names; X-Remove- and an empty
    # value remove
    st, h, b = expect(c.http('POST', c.path('cont'), {
        'X-Container-Meta-C': '3', 'X-Remove-Container-Meta-A': 'x',
        'X-Container-Meta-B': ''}), 204, b'', HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    st, h, b = c.http('HEAD', c.path('cont'))
    assert {k: v for k, v in h.items()
            if k.startswith('x-container-meta-')} == {'x-container-meta-c': '3'}
    # counts follow the objects at once (object servers update containers)
    put(c, 'cont', 'o1', b'12345')
    put(c, 'cont', 'o2', b'123')
    st, h, b = c.http('HEAD', c.path('cont'))
    assert h['x-container-object-count'] == '2'
    assert h['x-container-bytes-used'] == '8'
    # 409 while not empty, with Swift's body
    expect(c.http('DELETE', c.path('cont')), 409, True, HTML)
    for o in ('o1', 'o2'):
        expect(c.http('DELETE', c.path('cont', o)), 204)
    st, h, b = expect(c.http('DELETE', c.path('cont')), 204, b'', HTML)
    expect(c.http('HEAD', c.path('cont')), 404)
    expect(c.http('GET', c.path('cont')), 404, True, HTML)
    expect(c.http('DELETE', c.path('cont')), 404, True, HTML)
    expect(c.http('POST', c.path('cont'), {'X-Container-Meta-A': '1'}), 404,
           True, HTML)


def test_account_head_post(cluster):
    c = cluster
    put(c, 'acct1')
    put(c, 'acct1', 'o', b'x' * 10)
    put(c, 'acct2')

    def stats():
        st, h, b = c.http('HEAD', c.account_path)
        assert st == 204, (st, h)
        return h
    # container counts reach the account at once, object counts and bytes
    # through the container-updater (eventually)
    h = wait_for(lambda: (lambda h: h if int(h['x-account-object-count']) >= 1
                          else None)(stats()))
    assert h, stats()
    assert names(h) - {k for k in h if k.startswith('x-account-meta-')} \
        == COMMON | {
            'content-type', 'content-length', 'x-account-container-count',
            'x-account-object-count', 'x-account-bytes-used', 'x-timestamp',
            'x-account-storage-policy-policy-0-container-count',
            'x-account-storage-policy-policy-0-object-count',
            'x-account-storage-policy-policy-0-bytes-used',
            'accept-ranges', 'vary'}, h
    assert h['content-type'] == 'text/plain; charset=utf-8'
    assert h['vary'] == 'Accept'
    assert int(h['x-account-container-count']) >= 2
    for k in ('container-count', 'object-count', 'bytes-used'):
        assert h['x-account-storage-policy-policy-0-' + k] == \
            h['x-account-' + k]

    st, h, b = expect(c.http('POST', c.account_path, {
        'X-Account-Meta-Team': 'blue', 'X-Account-Meta-Gone': 'x'}), 204,
        b'', HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    h = stats()
    assert h['x-account-meta-team'] == 'blue'
    expect(c.http('POST', c.account_path, {
        'X-Remove-Account-Meta-Gone': '1', 'X-Account-Meta-Team': 'red'}),
        204)
    h = stats()
    assert h['x-account-meta-team'] == 'red'
    assert 'x-account-meta-gone' not in h
    expect(c.http('POST', c.account_path, {'X-Account-Meta-Team': ''}), 204)
    assert 'x-account-meta-team' not in stats()
    # a non-admin user can neither read nor change the account
    t3, _ = c.user_session('test:tester3')
    expect(c.http('HEAD', c.account_path, auth=t3), 403)
    expect(c.http('POST', c.account_path, {'X-Account-Meta-X': '1'},
                  auth=t3), 403, True)


def test_account_autocreate(cluster):
    """account_autocreate: an account that does not exist yet answers as
    an empty one (HEAD 200, not 204; GET 204 or []), and a POST or a
    container PUT creates it."""
    c = cluster
    ta, _ = c.user_session('admin:admin')
    fresh = '/v1/AUTH_fresh%d' % os.getpid()
    st, h, b = expect(c.http('HEAD', fresh, auth=ta), 200, b'',
                      'text/plain; charset=utf-8')
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'x-account-container-count',
        'x-account-object-count', 'x-account-bytes-used', 'x-timestamp',
        'x-put-timestamp', 'vary'}, h
    assert h['x-put-timestamp'] == h['x-timestamp']
    assert X_TIMESTAMP_RE.match(h['x-timestamp'])
    for k in ('container-count', 'object-count', 'bytes-used'):
        assert h['x-account-' + k] == '0'
    st, h, b = expect(c.http('GET', fresh, auth=ta), 204, b'',
                      'text/plain; charset=utf-8')
    assert 'accept-ranges' not in h
    expect(c.http('GET', fresh + '?format=json', auth=ta), 200, b'[]',
           'application/json; charset=utf-8')
    expect(c.http('GET', fresh + '?format=xml', auth=ta), 200,
           b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<account name="%s">\n</account>' % fresh[4:].encode(),
           'application/xml; charset=utf-8')
    expect(c.http('POST', fresh, {'X-Account-Meta-A': '1'}, auth=ta), 204)
    st, h, b = expect(c.http('HEAD', fresh, auth=ta), 204)
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'x-account-container-count',
        'x-account-object-count', 'x-account-bytes-used', 'x-timestamp',
        'x-account-meta-a', 'accept-ranges', 'vary'}, h
    # per-policy counts appear with the first container
    expect(c.http('PUT', fresh + '/c', auth=ta), 201)
    st, h, b = c.http('HEAD', fresh, auth=ta)
    assert h['x-account-storage-policy-policy-0-container-count'] == '1'


def test_object_counts_reach_account(cluster):
    c = cluster
    t2, a2 = c.user_session('test2:tester2')
    st, h, b = c.http('PUT', a2 + '/counted', auth=t2)
    assert st in (201, 202)
    for i, size in enumerate((100, 200, 300)):
        st, h, b = c.http('PUT', a2 + '/counted/o%d' % i, body=b'z' * size,
                          auth=t2)
        assert st == 201

    def counts():
        st, h, b = c.http('HEAD', a2, auth=t2)
        return (h['x-account-object-count'], h['x-account-bytes-used'])
    wait_for(lambda: counts() == ('3', '600'))
    assert counts() == ('3', '600')
    st, h, b = c.http('GET', a2 + '?format=json', auth=t2)
    counted = [x for x in json.loads(b) if x['name'] == 'counted']
    assert counted[0]['count'] == 3 and counted[0]['bytes'] == 600


# -- listings ------------------------------------------------------------

LISTED = ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'caf\u00e9 <&>"\'', 'd/x/y',
          'e.txt', 'f-', 'f/']


@pytest.fixture(scope='module')
def listed(cluster):
    c = cluster
    put(c, 'listed')
    for n in LISTED:
        put(c, 'listed', n, n.encode(), {'Content-Type': 'text/plain'})
    return 'listed'


def to_xml(doc):
    """ElementTree's UTF-8 serialization with a double-quoted declaration,
    as Swift's listing_formats writes it."""
    out = ET.tostring(doc, encoding='UTF-8')
    assert not out.startswith(b'<?xml')
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + out


def objects_xml(container, items):
    """Swift's container listing XML, from its JSON listing."""
    doc = ET.Element('container', name=container)
    for it in items:
        if 'subdir' in it:
            sub = ET.SubElement(doc, 'subdir', name=it['subdir'])
            ET.SubElement(sub, 'name').text = it['subdir']
        else:
            sub = ET.SubElement(doc, 'object')
            for f in ('name', 'hash', 'bytes', 'content_type',
                      'last_modified'):
                ET.SubElement(sub, f).text = str(it[f])
    return to_xml(doc)


def account_xml(account, items):
    doc = ET.Element('account', name=account)
    doc.text = '\n'
    for it in items:
        if 'subdir' in it:
            sub = ET.SubElement(doc, 'subdir', name=it['subdir'])
        else:
            sub = ET.SubElement(doc, 'container')
            for f in ('name', 'count', 'bytes', 'last_modified'):
                ET.SubElement(sub, f).text = str(it[f])
        sub.tail = '\n'
    return to_xml(doc)


def check_json_listing(body, kind='object'):
    """Swift's exact JSON: json.dumps' separators, \\u escapes, key order."""
    items = json.loads(body)
    assert body == json.dumps(items).encode()
    for it in items:
        if 'subdir' in it:
            assert list(it) == ['subdir']
        elif kind == 'object':
            assert list(it) == ['bytes', 'hash', 'name', 'content_type',
                                'last_modified'], it
            assert MD5_RE.match(it['hash'])
            assert ISO_RE.match(it['last_modified']), it
        else:
            assert list(it) == ['name', 'count', 'bytes', 'last_modified']
            assert ISO_RE.match(it['last_modified']), it
    return items


def listing(c, container, query='', headers=None, auth=True):
    path = c.path(container) if container is not None else c.account_path
    st, h, b = c.http('GET', path + ('?' + query if query else ''),
                      headers, auth=auth)
    return st, h, b


def plain_names(b):
    assert b == b'' or b.endswith(b'\n')
    return [x.decode() for x in b.split(b'\n')[:-1]]


def test_container_listing_formats(cluster, listed):
    c = cluster
    everything = sorted(LISTED)
    st, h, b = expect(listing(c, listed), 200, ctype='text/plain; '
                      'charset=utf-8')
    assert plain_names(b) == everything
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'x-container-object-count',
        'x-container-bytes-used', 'x-timestamp', 'last-modified',
        'accept-ranges', 'x-storage-policy', 'vary'}, h
    assert h['vary'] == 'Accept'
    assert h['x-container-object-count'] == str(len(LISTED))
    assert h['x-container-bytes-used'] == str(sum(
        len(n.encode()) for n in LISTED))

    st, h, b = expect(listing(c, listed, 'format=json'), 200,
                      ctype='application/json; charset=utf-8')
    # format= in the query: the answer does not vary with Accept
    assert 'vary' not in h
    items = check_json_listing(b)
    assert [i['name'] for i in items] == everything
    for i in items:
        assert i['bytes'] == len(i['name'].encode())
        assert i['hash'] == hashlib.md5(i['name'].encode()).hexdigest()
        assert i['content_type'] == 'text/plain'

    st, h, b = expect(listing(c, listed, 'format=xml'), 200,
                      ctype='application/xml; charset=utf-8')
    assert b == objects_xml(listed, items)
    assert b'&lt;&amp;&gt;"\'</name>' in b

    # Accept picks the format when format= is absent (and Vary: Accept)
    for accept, ctype in (
            ('application/json', 'application/json; charset=utf-8'),
            ('application/xml', 'application/xml; charset=utf-8'),
            ('text/xml', 'text/xml; charset=utf-8'),
            ('text/plain', 'text/plain; charset=utf-8'),
            ('*/*', 'text/plain; charset=utf-8'),
            ('application/json;q=0.5, application/xml;q=0.9',
             'application/xml; charset=utf-8')):
        st, h, b = expect(listing(c, listed, '', {'Accept': accept}), 200,
                          ctype=ctype)
        assert h['vary'] == 'Accept'
        if 'json' in ctype:
            assert json.loads(b) == items
        elif 'xml' in ctype:
            assert b == objects_xml(listed, items)
        else:
            assert plain_names(b) == everything
    expect(listing(c, listed, '', {'Accept': 'text/html'}), 406, True, HTML)
    # format= beats Accept; an unknown format is plain text
    st, h, b = expect(listing(c, listed, 'format=json',
                              {'Accept': 'application/xml'}), 200,
                      ctype='application/json; charset=utf-8')
    st, h, b = expect(listing(c, listed, 'format=foo'), 200,
                      ctype='text/plain; charset=utf-8')
    assert plain_names(b) == everything

    # HEAD: the same headers, no body
    st, h, b = expect(c.http('HEAD', c.path(listed)), 204)
    assert b == b'' and h['content-type'] == 'text/plain; charset=utf-8'
    st, h, b = expect(c.http('HEAD', c.path(listed) + '?format=json'), 204)
    assert h['content-type'] == 'application/json; charset=utf-8'


def test_container_listing_empty(cluster):
    c = cluster
    put(c, 'empty')
    st, h, b = expect(listing(c, 'empty'), 204, b'',
                      'text/plain; charset=utf-8')
    st, h, b = expect(listing(c, 'empty', 'format=json'), 200, b'[]',
                      'application/json; charset=utf-8')
    st, h, b = expect(listing(c, 'empty', 'format=xml'), 200,
                      b'<?xml version="1.0" encoding="UTF-8"?>\n'
                      b'<container name="empty" />',
                      'application/xml; charset=utf-8')
    # a prefix that matches nothing in a non-empty container: 204 too
    put(c, 'empty', 'x')
    expect(listing(c, 'empty', 'prefix=zzz'), 204, b'')
    expect(listing(c, 'empty', 'prefix=zzz&format=json'), 200, b'[]')


def test_container_listing_parameters(cluster, listed):
    c = cluster
    everything = sorted(LISTED)

    def names_of(query):
        st, h, b = listing(c, listed, query + '&format=json')
        assert st == 200, (query, st, b)
        return [i.get('name', i.get('subdir')) for i in
                check_json_listing(b)]

    def plain(query):
        st, h, b = listing(c, listed, query)
        assert st in (200, 204), (st, b)
        return plain_names(b)

    assert names_of('prefix=b/') == ['b/1', 'b/2', 'b/c/3']
    assert names_of('prefix=f') == ['f-', 'f/']
    assert plain('prefix=b/') == ['b/1', 'b/2', 'b/c/3']
    # delimiter: subdir entries, in name order
    assert names_of('delimiter=/') == ['a', 'b/', 'c', 'caf\u00e9 <&>"\'',
                                       'd/', 'e.txt', 'f-', 'f/']
    st, h, b = listing(c, listed, 'delimiter=/&format=json')
    subdirs = [i for i in json.loads(b) if 'subdir' in i]
    assert subdirs == [{'subdir': 'b/'}, {'subdir': 'd/'}, {'subdir': 'f/'}]
    st, h, b = listing(c, listed, 'delimiter=/&format=xml')
    assert b == objects_xml(listed, json.loads(
        listing(c, listed, 'delimiter=/&format=json')[2]))
    assert b'<subdir name="b/"><name>b/</name></subdir>' in b
    assert plain('delimiter=/') == ['a', 'b/', 'c', 'caf\u00e9 <&>"\'',
                                    'd/', 'e.txt', 'f-', 'f/']
    assert names_of('prefix=b/&delimiter=/') == ['b/1', 'b/2', 'b/c/']
    assert names_of('delimiter=.') == sorted(
        ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'caf\u00e9 <&>"\'', 'd/x/y', 'e.',
         'f-', 'f/'])
    # marker, end_marker (both exclusive), limit
    assert names_of('marker=b/2') == [n for n in everything if n > 'b/2']
    assert names_of('end_marker=c') == ['a', 'b/1', 'b/2', 'b/c/3']
    assert names_of('marker=a&end_marker=c&limit=2') == ['b/1', 'b/2']
    assert names_of('limit=1') == ['a']
    assert names_of('limit=0') == []
    assert plain('limit=0') == []
    assert names_of('marker=zzz') == []
    assert plain('marker=zzz') == []
    # with a delimiter, the subdir entry is left out only when it equals
    # the marker: a marker inside the pseudo-directory still yields it
    assert names_of('marker=b&delimiter=/') == [
        'b/', 'c', 'caf\u00e9 <&>"\'', 'd/', 'e.txt', 'f-', 'f/']
    assert names_of('marker=b/&delimiter=/') == [
        'c', 'caf\u00e9 <&>"\'', 'd/', 'e.txt', 'f-', 'f/']
    assert names_of('marker=b/1&delimiter=/') == [
        'b/', 'c', 'caf\u00e9 <&>"\'', 'd/', 'e.txt', 'f-', 'f/']
    # reverse: markers swap roles
    assert names_of('reverse=true') == everything[::-1]
    assert names_of('reverse=on&limit=2') == everything[::-1][:2]
    assert names_of('reverse=1&marker=c') == ['b/c/3', 'b/2', 'b/1', 'a']
    assert names_of('reverse=yes&end_marker=e.txt') == [
        'f/', 'f-']
    assert names_of('reverse=true&prefix=b/') == ['b/c/3', 'b/2', 'b/1']
    assert names_of('reverse=true&delimiter=/') == [
        'f/', 'f-', 'e.txt', 'd/', 'caf\u00e9 <&>"\'', 'c', 'b/', 'a']
    assert names_of('reverse=false') == everything
    # path=: objects directly under a pseudo-directory
    assert names_of('path=b') == ['b/1', 'b/2']
    assert names_of('path=d/x') == ['d/x/y']
    # ... an object whose name ends in the delimiter is an object there
    assert names_of('path=') == ['a', 'c', 'caf\u00e9 <&>"\'', 'e.txt',
                                 'f-', 'f/']
    # percent-encoded parameter values, unicode markers
    assert names_of('prefix=caf%C3%A9') == ['caf\u00e9 <&>"\'']
    assert names_of('marker=caf%C3%A9') == [
        'caf\u00e9 <&>"\'', 'd/x/y', 'e.txt', 'f-', 'f/']
    # limit over container_listing_limit, and a bad limit
    expect(listing(c, listed, 'limit=10001'), 412,
           b'Maximum limit is 10000', HTML)
    # a negative or non-numeric limit: the default
    for bad in ('limit=-1', 'limit=abc'):
        st, h, b = expect(listing(c, listed, bad), 200)
        assert plain_names(b) == everything
    # non-UTF-8 parameters: 400, naming the parameter
    for param in ('prefix', 'marker', 'end_marker', 'delimiter', 'path'):
        expect(listing(c, listed, param + '=%FF'), 400,
               b'"%s" parameter not valid UTF-8' % param.encode(),
               'text/plain')


def test_account_listing(cluster):
    """In an account of its own, made by the reseller admin."""
    c = cluster
    t2, _ = c.user_session('admin:admin')
    account = 'AUTH_listing%d' % os.getpid()
    a2 = '/v1/' + account
    for name in ('zeta', 'alpha', 'mid-dle', 'mid-x', '\u00fcber'):
        st, h, b = c.http('PUT', a2 + '/' + q(name), auth=t2)
        assert st == 201, (name, st, b)
    st, h, b = c.http('PUT', a2 + '/alpha/obj', body=b'12345', auth=t2)
    assert st == 201
    every = sorted(['zeta', 'alpha', 'mid-dle', 'mid-x', '\u00fcber'])
    st, h, b = expect(c.http('GET', a2, auth=t2), 200,
                      ctype='text/plain; charset=utf-8')
    assert plain_names(b) == every
    assert h['vary'] == 'Accept'
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'x-account-container-count',
        'x-account-object-count', 'x-account-bytes-used', 'x-timestamp',
        'x-account-storage-policy-policy-0-container-count',
        'x-account-storage-policy-policy-0-object-count',
        'x-account-storage-policy-policy-0-bytes-used',
        'accept-ranges', 'vary'}, h

    def get_json(query):
        st, h, b = expect(c.http('GET', a2 + '?format=json' + query,
                                 auth=t2), 200,
                          ctype='application/json; charset=utf-8')
        return check_json_listing(b, 'account')
    items = get_json('')
    assert [i['name'] for i in items] == every
    # the object's count and bytes reach the listing eventually
    wait_for(lambda: [i for i in get_json('') if i['name'] == 'alpha'][0][
        'bytes'] == 5)
    items = get_json('')
    alpha = items[0]
    assert (alpha['count'], alpha['bytes']) == (1, 5)
    st, h, b = expect(c.http('GET', a2 + '?format=xml', auth=t2), 200,
                      ctype='application/xml; charset=utf-8')
    assert b == account_xml(account, items)
    assert b.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                        b'<account name="%s">\n<container><name>alpha'
                        b'</name><count>1</count><bytes>5</bytes>'
                        % account.encode())
    st, h, b = c.http('GET', a2, {'Accept': 'application/json'}, auth=t2)
    assert json.loads(b) == items and h['vary'] == 'Accept'

    assert [i['name'] for i in get_json('&prefix=mid-')] == ['mid-dle',
                                                             'mid-x']
    assert [i.get('name') or i['subdir'] for i in get_json(
        '&delimiter=-')] == ['alpha', 'mid-', 'zeta', '\u00fcber']
    st, h, b = c.http('GET', a2 + '?format=xml&delimiter=-', auth=t2)
    assert b'\n<subdir name="mid-" />\n' in b
    st, h, b = c.http('GET', a2 + '?delimiter=-', auth=t2)
    assert plain_names(b) == ['alpha', 'mid-', 'zeta', '\u00fcber']
    assert [i['name'] for i in get_json('&marker=mid-x')] == [
        'zeta', '\u00fcber']
    assert [i['name'] for i in get_json('&end_marker=mid-x')] == [
        'alpha', 'mid-dle']
    assert [i['name'] for i in get_json('&limit=2')] == ['alpha', 'mid-dle']
    assert [i['name'] for i in get_json('&reverse=true&limit=2')] == [
        '\u00fcber', 'zeta']
    expect(c.http('GET', a2 + '?limit=10001', auth=t2), 412,
           b'Maximum limit is 10000', HTML)

    # the CLI lists the account, with --long and --prefix
    url = 'http://%s:%d%s' % (c.host, c.port, a2)
    r = c.swift('--os-storage-url', url, 'list', user='admin:admin')
    assert r.returncode == 0, r
    assert r.stdout.decode().splitlines() == every
    r = c.swift('--os-storage-url', url, 'list', '--prefix', 'mid',
                user='admin:admin')
    assert r.stdout.decode().splitlines() == ['mid-dle', 'mid-x']
    r = c.swift('--os-storage-url', url, 'list', '--long',
                user='admin:admin')
    lines = r.stdout.decode().splitlines()
    assert re.match(r'^\s+1\s+5 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Policy-0\s+'
                    r'alpha$', lines[0]), lines


def test_listing_10050_objects(cluster):
    """More objects than container_listing_limit (10000): pages via marker.
    The objects are made with PUTs over keep-alive connections from a few
    threads."""
    c = cluster
    n = LISTING_OBJECTS
    put(c, 'many')
    names_ = ['obj-%05d' % i for i in range(n)]
    errors = []

    def worker(part):
        conn = c.connection()
        try:
            for name in part:
                for attempt in range(3):
                    try:
                        st, h, b = c.http('PUT', c.path('many', name),
                                          body=b'', conn=conn)
                        break
                    except (OSError, ConnectionError):
                        conn.close()
                        conn = c.connection()
                else:
                    raise RuntimeError('PUT %s failed' % name)
                if st != 201:
                    errors.append((name, st, b))
                    return
        finally:
            conn.close()
    threads = [threading.Thread(target=worker, args=(names_[k::8],))
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

    st, h, b = c.http('HEAD', c.path('many'))
    assert h['x-container-object-count'] == str(n)

    # the default page is container_listing_limit long
    st, h, b = listing(c, 'many')
    first = plain_names(b)
    assert first == names_[:10000]
    st, h, b = listing(c, 'many', 'marker=' + first[-1])
    assert plain_names(b) == names_[10000:]
    # pages of 1000 in JSON, by marker, in order, to the end
    got, marker, pages = [], '', 0
    while True:
        st, h, b = listing(c, 'many', 'format=json&limit=1000&marker=' +
                           marker)
        page = json.loads(b)
        if not page:
            break
        assert len(page) == min(1000, n - len(got))
        got += [i['name'] for i in page]
        marker = page[-1]['name']
        pages += 1
    assert got == names_ and pages == math.ceil(n / 1000)
    # and backwards
    st, h, b = listing(c, 'many', 'reverse=true&limit=3&marker=obj-00003')
    assert plain_names(b) == ['obj-00002', 'obj-00001', 'obj-00000']
    # the CLI pages by itself
    r = c.swift('list', 'many')
    assert r.returncode == 0, r
    assert r.stdout.decode().splitlines() == names_


# -- the swift CLI -------------------------------------------------------

def test_cli_upload_download(cluster, tmp_path):
    c = cluster
    src = tmp_path / 'src'
    files = {'f1.txt': b'hello\n', 'dir/f2': b'world\n',
             'dir/sub/f3.bin': os.urandom(300000),
             'dir/sub/empty': b''}
    for name, data in files.items():
        p = src / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    r = c.swift('upload', 'clicont', 'f1.txt', 'dir', cwd=src)
    assert r.returncode == 0, r
    assert sorted(r.stdout.decode().split()) == sorted(files)

    r = c.swift('list', 'clicont')
    assert r.returncode == 0, r
    assert r.stdout.decode().splitlines() == sorted(files)
    r = c.swift('list', 'clicont', '--prefix', 'dir/s')
    assert r.stdout.decode().splitlines() == ['dir/sub/empty',
                                              'dir/sub/f3.bin']
    r = c.swift('list', 'clicont', '--delimiter', '/')
    assert r.stdout.decode().splitlines() == ['dir/', 'f1.txt']
    r = c.swift('list', 'clicont', '--prefix', 'dir/', '--delimiter', '/')
    assert r.stdout.decode().splitlines() == ['dir/f2', 'dir/sub/']
    r = c.swift('list', 'clicont', '--long')
    lines = r.stdout.decode().splitlines()
    assert len(lines) == len(files) + 1
    for line, name in zip(lines, sorted(files)):
        m = re.match(r'^\s*(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\S+) (.*)$',
                     line)
        assert m, line
        assert int(m.group(1)) == len(files[name])
        assert m.group(4) == name
    assert int(lines[-1]) == sum(len(d) for d in files.values())

    dst = tmp_path / 'dst'
    r = c.swift('download', 'clicont', '-D', str(dst))
    assert r.returncode == 0, r
    for name, data in files.items():
        assert (dst / name).read_bytes() == data, name
    # one object to stdout
    r = c.swift('download', 'clicont', 'dir/f2', '-o', '-')
    assert r.returncode == 0 and r.stdout == b'world\n', r
    # swift upload sets the mtime metadata; Content-Type guessed from name
    st, h, b = c.http('HEAD', c.path('clicont', 'f1.txt'))
    assert 'x-object-meta-mtime' in h
    assert h['content-type'] == 'text/plain'

    # stat, post, copy, delete
    r = c.swift('stat', 'clicont', 'dir/f2')
    out = r.stdout.decode()
    assert r.returncode == 0, r
    assert re.search(r'^\s+Content Length: 6$', out, re.M), out
    assert re.search(r'^\s+ETag: %s$' % hashlib.md5(b'world\n').hexdigest(),
                     out, re.M), out
    r = c.swift('post', '-m', 'Color:red', 'clicont', 'dir/f2')
    assert r.returncode == 0, r
    r = c.swift('stat', 'clicont', 'dir/f2')
    assert re.search(r'^\s+Meta Color: red$', r.stdout.decode(), re.M)
    r = c.swift('post', '-m', 'Owner:me', '-r', '.r:*', 'clicont')
    assert r.returncode == 0, r
    r = c.swift('stat', 'clicont')
    out = r.stdout.decode()
    assert re.search(r'^\s+Objects: 4$', out, re.M), out
    assert re.search(r'^\s+Bytes: %d$' % sum(map(len, files.values())), out,
                     re.M), out
    assert re.search(r'^\s+Read ACL: \.r:\*$', out, re.M), out
    assert re.search(r'^\s+Meta Owner: me$', out, re.M), out
    r = c.swift('copy', 'clicont', 'dir/f2', '-d', '/clicont/copied')
    assert r.returncode == 0, r
    expect(c.http('GET', c.path('clicont', 'copied')), 200, b'world\n')
    r = c.swift('delete', 'clicont', 'dir/f2')
    assert r.returncode == 0, r
    expect(c.http('HEAD', c.path('clicont', 'dir/f2')), 404)
    r = c.swift('stat', 'clicont', 'dir/f2')
    assert r.returncode == 1
    assert b'404 Not Found' in r.stderr
    r = c.swift('list', 'nosuchcontainer')
    assert r.returncode == 1
    assert b"Container 'nosuchcontainer' not found" in r.stderr
    r = c.swift('delete', 'clicont')
    assert r.returncode == 0, r
    expect(c.http('HEAD', c.path('clicont')), 404)

    r = c.swift('stat')
    out = r.stdout.decode()
    assert r.returncode == 0, r
    assert re.search(r'^\s+Account: AUTH_test$', out, re.M), out
    assert re.search(r'^\s+Containers: \d+$', out, re.M), out
    # wrong key: the CLI reports the 401 of the auth request
    r = c.swift('list', user='test:tester', key='wrong')
    assert r.returncode == 1
    assert b'401 Unauthorized' in r.stderr


# -- copy ----------------------------------------------------------------

def test_copy(cluster):
    c = cluster
    put(c, 'copysrc')
    put(c, 'copydst')
    data = b'source data'
    src_h = put(c, 'copysrc', 'o', data, {
        'Content-Type': 'text/x-src', 'X-Object-Meta-Color': 'red',
        'X-Object-Meta-Size': 'big', 'Content-Disposition': 'inline',
        'Content-Encoding': 'identity'})
    st, h, b = c.http('HEAD', c.path('copysrc', 'o'))
    src_lm = h['last-modified']

    # COPY with Destination: data, type, metadata carried over
    st, h, b = expect(c.http('COPY', c.path('copysrc', 'o'),
                             {'Destination': 'copydst/c1'}), 201, b'', HTML)
    assert names(h) == COMMON | {
        'content-type', 'content-length', 'etag', 'last-modified',
        'x-copied-from', 'x-copied-from-account',
        'x-copied-from-last-modified', 'x-object-meta-color',
        'x-object-meta-size'}, h
    assert h['etag'] == src_h['etag']
    assert h['x-copied-from'] == 'copysrc/o'
    assert h['x-copied-from-account'] == 'AUTH_test'
    assert h['x-copied-from-last-modified'] == src_lm
    st, h, b = expect(c.http('GET', c.path('copydst', 'c1')), 200, data,
                      'text/x-src')
    assert h['x-object-meta-color'] == 'red'
    assert h['x-object-meta-size'] == 'big'
    assert h['content-disposition'] == 'inline'
    assert h['content-encoding'] == 'identity'

    # Destination with a leading slash; new metadata overrides one key
    expect(c.http('COPY', c.path('copysrc', 'o'), {
        'Destination': '/copydst/c2', 'X-Object-Meta-Color': 'blue',
        'Content-Type': 'text/x-new'}), 201)
    st, h, b = expect(c.http('GET', c.path('copydst', 'c2')), 200, data,
                      'text/x-new')
    assert h['x-object-meta-color'] == 'blue'
    assert h['x-object-meta-size'] == 'big'

    # PUT with X-Copy-From (and a quoted, unicode source name)
    st, h, b = expect(c.http('PUT', c.path('copydst', 'c3'), {
        'X-Copy-From': '/copysrc/o', 'X-Object-Meta-Extra': '1'}, b''), 201)
    assert h['x-copied-from'] == 'copysrc/o'
    st, h, b = expect(c.http('GET', c.path('copydst', 'c3')), 200, data)
    assert (h['x-object-meta-color'], h['x-object-meta-extra']) == ('red',
                                                                   '1')
    put(c, 'copysrc', '\u00e9 t\u00e9', b'accent')
    expect(c.http('PUT', c.path('copydst', 'c4'), {
        'X-Copy-From': 'copysrc/' + urllib.parse.quote('\u00e9 t\u00e9')},
        b''), 201)
    expect(c.http('GET', c.path('copydst', 'c4')), 200, b'accent')

    # X-Fresh-Metadata: only what the request gives (Content-Type stays)
    expect(c.http('PUT', c.path('copydst', 'c5'), {
        'X-Copy-From': 'copysrc/o', 'X-Fresh-Metadata': 'true',
        'X-Object-Meta-New': 'yes'}, b''), 201)
    st, h, b = expect(c.http('GET', c.path('copydst', 'c5')), 200, data,
                      'text/x-src')
    assert {k for k in h if k.startswith('x-object-meta-')} == {
        'x-object-meta-new'}
    assert 'content-disposition' not in h
    expect(c.http('COPY', c.path('copysrc', 'o'), {
        'Destination': 'copydst/c6', 'X-Fresh-Metadata': 'true'}), 201)
    st, h, b = c.http('HEAD', c.path('copydst', 'c6'))
    assert not {k for k in h if k.startswith('x-object-meta-')}

    # copy onto itself with new metadata (a metadata update keeping data)
    expect(c.http('COPY', c.path('copydst', 'c1'), {
        'Destination': 'copydst/c1', 'X-Object-Meta-Color': 'green'}), 201)
    st, h, b = expect(c.http('GET', c.path('copydst', 'c1')), 200, data)
    assert h['x-object-meta-color'] == 'green'

    # X-Delete-At is copied with the object
    put(c, 'copysrc', 'expiring', b'e', {'X-Delete-After': '1000'})
    st, h, b = c.http('HEAD', c.path('copysrc', 'expiring'))
    expect(c.http('COPY', c.path('copysrc', 'expiring'),
                  {'Destination': 'copydst/expiring'}), 201)
    st, h2, b = c.http('HEAD', c.path('copydst', 'expiring'))
    assert h2['x-delete-at'] == h['x-delete-at']

    # errors
    expect(c.http('COPY', c.path('copysrc', 'o')), 412,
           b'Destination header required', HTML)
    expect(c.http('COPY', c.path('copysrc', 'o'), {'Destination': 'nosl'}),
           412, b'Destination header must be of the form <container name>/'
           b'<object name>', HTML)
    for bad in ('nocontainer', '/justone', 'c/'):
        expect(c.http('PUT', c.path('copydst', 'x'), {'X-Copy-From': bad},
                      b''), 412, b'X-Copy-From header must be of the form '
               b'<container name>/<object name>', HTML)
    expect(c.http('PUT', c.path('copydst', 'x'),
                  {'X-Copy-From': 'copysrc/missing'}, b''), 404, True, HTML)
    expect(c.http('COPY', c.path('copysrc', 'missing'),
                  {'Destination': 'copydst/x'}), 404, True, HTML)
    expect(c.http('COPY', c.path('copysrc', 'o'),
                  {'Destination': 'nosuchcontainer/x'}), 404, True, HTML)
    # a copy from a source that fails a condition: 412
    expect(c.http('PUT', c.path('copydst', 'x'), {
        'X-Copy-From': 'copysrc/o', 'If-Match': 'nope'}, b''), 412)
    # X-Copy-From with a body: 400
    expect(c.http('PUT', c.path('copydst', 'x'),
                  {'X-Copy-From': 'copysrc/o'}, b'body'), 400,
           b'Copy requests require a zero byte body', 'text/plain')
    expect(c.http('HEAD', c.path('copydst', 'x')), 404)


# -- ranges and conditions ---------------------------------------------

@pytest.fixture(scope='module')
def ranged(cluster):
    put(cluster, 'ranges')
    data = bytes(range(256)) * 4
    h = put(cluster, 'ranges', 'o', data)
    st, hh, b = cluster.http('HEAD', cluster.path('ranges', 'o'))
    return data, h['etag'], hh['last-modified']


def test_range_get(cluster, ranged):
    c = cluster
    data, etag, lm = ranged
    path = c.path('ranges', 'o')
    n = len(data)

    def get(r, method='GET'):
        return c.http(method, path, {'Range': r})
    for r, lo, hi in (('bytes=0-9', 0, 9), ('bytes=-5', n - 5, n - 1),
                      ('bytes=1020-', 1020, n - 1), ('bytes=0-0', 0, 0),
                      ('bytes=0-99999', 0, n - 1), ('bytes=-99999', 0, n - 1),
                      ('bytes=100-199', 100, 199)):
        st, h, b = expect(get(r), 206, data[lo:hi + 1],
                          'application/octet-stream')
        assert h['content-range'] == 'bytes %d-%d/%d' % (lo, hi, n), r
        assert h['etag'] == etag and h['accept-ranges'] == 'bytes'
        assert names(h) == COMMON | {
            'content-type', 'content-length', 'content-range', 'etag',
            'last-modified', 'x-timestamp', 'accept-ranges'}, h

    # several ranges: multipart/byteranges, Swift's exact framing
    st, h, b = expect(get('bytes=0-1,5-6,-2'), 206)
    m = re.match(r'^multipart/byteranges;boundary=([0-9a-f]{32})$',
                 h['content-type'])
    assert m, h
    bd = m.group(1).encode()
    parts = [(0, 1), (5, 6), (n - 2, n - 1)]
    want = b''.join(
        b'--' + bd + b'\r\nContent-Type: application/octet-stream\r\n'
        b'Content-Range: bytes %d-%d/%d\r\n\r\n' % (lo, hi, n) +
        data[lo:hi + 1] + b'\r\n' for lo, hi in parts) + b'--' + bd + b'--'
    assert b == want
    assert h['content-length'] == str(len(want))
    assert 'content-range' not in h

    # nothing satisfiable: 416 with the length
    for r in ('bytes=1024-', 'bytes=2000-3000', 'bytes=1024-1030,2000-'):
        st, h, b = expect(get(r), 416, True, 'application/octet-stream')
        assert h['content-range'] == 'bytes */%d' % n
        assert h['etag'] == etag
    # a syntactically invalid Range is ignored: the whole object
    for r in ('bytes=10-5', 'foo', 'bytes=', 'bytes=a-b', 'items=0-1'):
        expect(get(r), 200, data)
    # some satisfiable, some not: only the satisfiable parts
    st, h, b = expect(get('bytes=0-1,2000-3000'), 206, data[0:2])
    assert h['content-range'] == 'bytes 0-1/%d' % n
    # HEAD ignores Range
    st, h, b = expect(get('bytes=0-9', 'HEAD'), 200)
    assert h['content-length'] == str(n) and b == b''
    # a range of an empty object is unsatisfiable
    put(c, 'ranges', 'empty', b'')
    st, h, b = expect(c.http('GET', c.path('ranges', 'empty'),
                             {'Range': 'bytes=0-1'}), 416, True)
    assert h['content-range'] == 'bytes */0'
    expect(c.http('GET', c.path('ranges', 'empty'),
                  {'Range': 'bytes=-1'}), 200, b'')


def test_conditional_get(cluster, ranged):
    c = cluster
    data, etag, lm = ranged
    path = c.path('ranges', 'o')
    lm_ts = calendar.timegm(email.utils.parsedate(lm))
    before = http_date(lm_ts - 3600)
    after = http_date(lm_ts + 3600)

    def get(hdrs, method='GET'):
        return c.http(method, path, hdrs)
    # If-Match
    for v in (etag, '"%s"' % etag, '*', 'nope, "%s"' % etag):
        expect(get({'If-Match': v}), 200, data)
    for method in ('GET', 'HEAD'):
        st, h, b = expect(get({'If-Match': 'nope'}, method), 412, b'', HTML)
        assert names(h) == COMMON | {'content-type', 'content-length',
                                     'etag', 'last-modified', 'x-timestamp'}
        assert h['etag'] == etag and h['last-modified'] == lm
    # If-None-Match
    for v in (etag, '"%s"' % etag, '*', '"x", "%s"' % etag):
        st, h, b = expect(get({'If-None-Match': v}), 304, b'')
        assert names(h) == COMMON | {
            'content-type', 'content-length', 'etag', 'last-modified',
            'x-timestamp', 'accept-ranges'}, h
        assert h['content-type'] == 'application/octet-stream'
        assert h['etag'] == etag
    expect(get({'If-None-Match': 'other'}), 200, data)
    expect(get({'If-None-Match': etag}, 'HEAD'), 304)
    # If-Modified-Since
    expect(get({'If-Modified-Since': lm}), 304, b'')
    expect(get({'If-Modified-Since': after}), 304, b'')
    expect(get({'If-Modified-Since': before}), 200, data)
    expect(get({'If-Modified-Since': 'not a date'}), 200, data)
    # If-Unmodified-Since
    expect(get({'If-Unmodified-Since': lm}), 200, data)
    expect(get({'If-Unmodified-Since': after}), 200, data)
    expect(get({'If-Unmodified-Since': before}), 412, b'')
    expect(get({'If-Unmodified-Since': 'not a date'}), 200, data)
    # precedence: If-Match fails before anything else. Unlike RFC 7232
    # (3.3: If-Modified-Since is ignored with If-None-Match), Swift applies
    # both: a non-matching If-None-Match and a later If-Modified-Since: 304
    expect(get({'If-Match': 'nope', 'If-None-Match': 'x'}), 412)
    expect(get({'If-None-Match': 'x', 'If-Modified-Since': after}), 304)
    expect(get({'If-None-Match': 'x', 'If-Modified-Since': before}), 200,
           data)
    # with a Range: conditions first, then the range
    expect(get({'If-Match': etag, 'Range': 'bytes=0-1'}), 206, data[:2])
    expect(get({'If-None-Match': etag, 'Range': 'bytes=0-1'}), 304)
    # on a missing object a failed If-Match is still 404
    expect(c.http('GET', c.path('ranges', 'missing'), {'If-Match': 'x'}),
           404, True)


def test_conditional_put(cluster):
    c = cluster
    put(c, 'cput')
    expect(c.http('PUT', c.path('cput', 'o'), {'If-None-Match': '*'},
                  b'1'), 201)
    expect(c.http('PUT', c.path('cput', 'o'), {'If-None-Match': '*'},
                  b'2'), 412, True, HTML)
    expect(c.http('GET', c.path('cput', 'o')), 200, b'1')
    expect(c.http('PUT', c.path('cput', 'o'), {'If-None-Match': 'abc'},
                  b'2'), 400, b'If-None-Match only supports *', 'text/plain')


# -- expiry --------------------------------------------------------------

def test_expiry(cluster):
    c = cluster
    put(c, 'expiry')
    t0 = time.time()
    h = put(c, 'expiry', 'soon', b'bye', {'X-Delete-After': '2'})
    st, h, b = expect(c.http('GET', c.path('expiry', 'soon')), 200, b'bye')
    delete_at = int(h['x-delete-at'])
    assert int(t0) + 1 <= delete_at <= int(time.time()) + 3
    put(c, 'expiry', 'later', b'x', {'X-Delete-At': str(int(t0) + 3600)})
    st, h, b = c.http('HEAD', c.path('expiry', 'later'))
    assert h['x-delete-at'] == str(int(t0) + 3600)
    # POST can set and change it too
    put(c, 'expiry', 'posted', b'x')
    expect(c.http('POST', c.path('expiry', 'posted'),
                  {'X-Delete-After': '2'}), 202)
    # errors
    past = str(int(time.time()) - 10)
    for hdrs, body in (({'X-Delete-At': past}, b'X-Delete-At in past'),
                       ({'X-Delete-At': 'abc'}, b'Non-integer X-Delete-At'),
                       ({'X-Delete-After': '-1'}, b'X-Delete-After in past'),
                       ({'X-Delete-After': 'abc'},
                        b'Non-integer X-Delete-After')):
        expect(c.http('PUT', c.path('expiry', 'bad'), hdrs, b'x'), 400,
               body, 'text/plain')
        expect(c.http('POST', c.path('expiry', 'posted'), hdrs), 400, body,
               'text/plain')
    expect(c.http('HEAD', c.path('expiry', 'bad')), 404)
    # once the time passes: 404 (the expirer need not have run)
    time.sleep(max(0, delete_at - time.time()) + 1.1)
    expect(c.http('GET', c.path('expiry', 'soon')), 404, True, HTML)
    st, h, b = expect(c.http('HEAD', c.path('expiry', 'soon')), 404)
    expect(c.http('GET', c.path('expiry', 'posted')), 404, True)
    expect(c.http('POST', c.path('expiry', 'soon'),
                  {'X-Object-Meta-A': '1'}), 404)
    expect(c.http('GET', c.path('expiry', 'later')), 200, b'x')


# -- big object ------------------------------------------------------------

def test_big_object(cluster):
    """KURA_TEST_BIG_MB MiB (default 1 GiB) streamed up from a generator and
    down again, MD5 compared; never all in memory."""
    c = cluster
    put(c, 'big')
    size = BIG_MB << 20
    block = os.urandom(1 << 20)

    def chunks():
        for i in range(BIG_MB):
            yield struct.pack('>Q', i) + block[8:]
    md5 = hashlib.md5()
    conn = c.connection(timeout=600)
    try:
        conn.putrequest('PUT', c.path('big', 'object'))
        conn.putheader('X-Auth-Token', c.token)
        conn.putheader('Content-Length', str(size))
        conn.putheader('Content-Type', 'application/x-big')
        conn.endheaders()
        for chunk in chunks():
            md5.update(chunk)
            conn.send(chunk)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        assert resp.getheader('etag') == md5.hexdigest()

        st, h, b = expect(c.http('HEAD', c.path('big', 'object'), conn=conn),
                          200)
        assert h['content-length'] == str(size)
        assert h['etag'] == md5.hexdigest()

        conn.putrequest('GET', c.path('big', 'object'))
        conn.putheader('X-Auth-Token', c.token)
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader('content-length') == str(size)
        down, got = hashlib.md5(), 0
        while True:
            d = resp.read(1 << 20)
            if not d:
                break
            down.update(d)
            got += len(d)
        assert got == size
        assert down.hexdigest() == md5.hexdigest()
        # a range deep inside
        off = size - (1 << 20) + 3
        st, h, b = c.http('GET', c.path('big', 'object'),
                          {'Range': 'bytes=%d-%d' % (off, off + 9)},
                          conn=conn)
        last = struct.pack('>Q', BIG_MB - 1) + block[8:]
        assert st == 206 and b == last[3:13]
        st, h, b = c.http('GET', c.path('big') + '?format=json', conn=conn)
        assert json.loads(b)[0]['bytes'] == size
        assert json.loads(b)[0]['hash'] == md5.hexdigest()
        assert json.loads(b)[0]['content_type'] == 'application/x-big'
    finally:
        # frees the space (Swift's target keeps its devices on tmpfs)
        c.http('DELETE', c.path('big', 'object'))
        conn.close()


# -- ACLs ------------------------------------------------------------------

def test_acls_between_accounts(cluster):
    c = cluster
    t2, a2 = c.user_session('test2:tester2')
    put(c, 'shared')
    put(c, 'shared', 'o', b'data')
    path, obj = c.path('shared'), c.path('shared', 'o')

    # no ACL: test2 is refused everything
    for method, p in (('GET', obj), ('HEAD', obj), ('GET', path),
                      ('HEAD', path), ('GET', c.account_path),
                      ('PUT', c.path('shared', 'new')),
                      ('DELETE', obj), ('POST', obj)):
        st, h, b = expect(c.http(method, p, auth=t2,
                                 body=b'x' if method == 'PUT' else None),
                          403, None if method == 'HEAD' else True,
                          None if method == 'HEAD' else HTML)
    # read ACL naming the user: objects and listing, but no writes
    expect(c.http('POST', path, {'X-Container-Read': 'test2:tester2'}), 204)
    expect(c.http('GET', obj, auth=t2), 200, b'data')
    st, h, b = expect(c.http('GET', path, auth=t2), 200, b'o\n')
    # the owner-only headers are not shown to others
    st, h, b = expect(c.http('HEAD', path, auth=t2), 204)
    assert 'x-container-read' not in h
    st, h, b = c.http('HEAD', path)
    assert h['x-container-read'] == 'test2:tester2'
    expect(c.http('PUT', c.path('shared', 'new'), auth=t2, body=b'x'), 403)
    expect(c.http('DELETE', obj, auth=t2), 403)
    expect(c.http('POST', path, {'X-Container-Meta-X': '1'}, auth=t2), 403)
    expect(c.http('GET', obj, auth=False), 401, True)
    # the account grants nothing more
    expect(c.http('GET', c.account_path, auth=t2), 403)

    # .r:* lets anyone read objects, not list
    expect(c.http('POST', path, {'X-Container-Read': '.r:*'}), 204)
    expect(c.http('GET', obj, auth=False), 200, b'data')
    expect(c.http('GET', obj, auth=t2), 200, b'data')
    st, h, b = expect(c.http('GET', path, auth=False), 401, True, HTML)
    assert h['www-authenticate'] == 'Swift realm="AUTH_test"'
    # .rlistings adds listings
    expect(c.http('POST', path, {'X-Container-Read': '.r:*,.rlistings'}),
           204)
    expect(c.http('GET', path, auth=False), 200, b'o\n')
    expect(c.http('GET', path + '?format=json', auth=t2), 200)
    # referrer ACLs
    expect(c.http('POST', path, {'X-Container-Read': '.r:.example.com'}),
           204)
    expect(c.http('GET', obj, {'Referer': 'http://www.example.com/x'},
                  auth=False), 200, b'data')
    expect(c.http('GET', obj, {'Referer': 'http://evil.com/'}, auth=False),
           401)
    # removing the ACL
    expect(c.http('POST', path, {'X-Remove-Container-Read': 'x'}), 204)
    expect(c.http('GET', obj, auth=t2), 403)
    expect(c.http('GET', obj, auth=False), 401)

    # write ACL: PUT, DELETE, still no reading
    expect(c.http('POST', path, {'X-Container-Write': 'test2:tester2'}),
           204)
    expect(c.http('PUT', c.path('shared', 'from2'), auth=t2, body=b'w'),
           201)
    expect(c.http('GET', c.path('shared', 'from2')), 200, b'w')
    expect(c.http('GET', c.path('shared', 'from2'), auth=t2), 403)
    expect(c.http('DELETE', c.path('shared', 'from2'), auth=t2), 204, b'')
    expect(c.http('POST', path, {'X-Container-Meta-X': '1'}, auth=t2), 403)
    expect(c.http('DELETE', path, auth=t2), 403)
    # ACLs name accounts too: test2:* reads
    expect(c.http('POST', path, {'X-Container-Read': 'test2',
                                 'X-Remove-Container-Write': 'x'}), 204)
    expect(c.http('GET', obj, auth=t2), 200, b'data')
    expect(c.http('PUT', c.path('shared', 'from2'), auth=t2, body=b'w'),
           403)

    # the reseller admin may do anything anywhere
    ta, _ = c.user_session('admin:admin')
    expect(c.http('GET', c.account_path, auth=ta), 200)
    expect(c.http('GET', obj, auth=ta), 200, b'data')
    # the CLI, as test2, on test's container with --os-storage-url
    expect(c.http('POST', path, {'X-Container-Read': 'test2:tester2'}), 204)
    r = c.swift('--os-storage-url', c.storage_url, 'download', 'shared',
                'o', '-o', '-', user='test2:tester2')
    assert r.returncode == 0 and r.stdout == b'data', r


def test_acls_non_admin_user(cluster):
    """test:tester3 is in account test without .admin: it needs ACLs."""
    c = cluster
    t3, a3 = c.user_session('test:tester3')
    assert a3 == c.account_path
    put(c, 'private3')
    put(c, 'private3', 'o', b'secret')
    path, obj = c.path('private3'), c.path('private3', 'o')
    expect(c.http('GET', obj, auth=t3), 403, True, HTML)
    expect(c.http('GET', path, auth=t3), 403, True, HTML)
    expect(c.http('GET', c.account_path, auth=t3), 403, True, HTML)
    expect(c.http('PUT', c.path('private3', 'x'), auth=t3, body=b'x'), 403)
    expect(c.http('PUT', c.path('new3'), auth=t3), 403, True, HTML)
    expect(c.http('POST', path, {'X-Container-Read': 'test:tester3'},
                  auth=t3), 403)
    expect(c.http('POST', path, {'X-Container-Read': 'test:tester3'}), 204)
    expect(c.http('GET', obj, auth=t3), 200, b'secret')
    expect(c.http('GET', path, auth=t3), 200, b'o\n')
    expect(c.http('PUT', c.path('private3', 'x'), auth=t3, body=b'x'), 403)
    expect(c.http('POST', path, {'X-Container-Write': 'test:tester3'}), 204)
    expect(c.http('PUT', c.path('private3', 'x'), auth=t3, body=b'x'), 201)
    # the CLI as tester3
    r = c.swift('list', 'private3', user='test:tester3')
    assert r.returncode == 0 and r.stdout == b'o\nx\n', r
    r = c.swift('list', user='test:tester3')
    assert r.returncode == 1 and b'403 Forbidden' in r.stderr, r


# -- errors ----------------------------------------------------------------

def test_error_404_and_bad_paths(cluster):
    c = cluster
    expect(c.http('GET', c.path('nowhere')), 404, True, HTML)
    expect(c.http('GET', c.path('nowhere', 'o')), 404, True, HTML)
    put(c, 'errs')
    expect(c.http('GET', c.path('errs', 'missing')), 404, True, HTML)
    st, h, b = expect(c.http('HEAD', c.path('errs', 'missing')), 404, b'',
                      HTML)
    assert names(h) == COMMON | {'content-type', 'content-length'}
    expect(c.http('GET', '/', auth=False), 404, True, HTML)
    expect(c.http('GET', '/nonsense/path', auth=False), 400, True, HTML)
    expect(c.http('GET', '/v1', auth=False), 412, b'Bad URL', HTML)
    expect(c.http('GET', '/v2/AUTH_test'), 400, True, HTML)
    expect(c.http('GET', c.path('errs') + '/%FF'), 412,
           b'Invalid UTF8 or contains NULL', HTML)
    expect(c.http('GET', c.path('errs') + '/a%00b'), 412,
           b'Invalid UTF8 or contains NULL', HTML)
    # an unknown method: 405 with the object's methods (no COPY here)
    st, h, b = expect(c.http('FOO', c.path('errs', 'o')), 405, True, HTML)
    assert set(h['allow'].split(', ')) == {'GET', 'HEAD', 'PUT', 'POST',
                                           'DELETE', 'OPTIONS'}


def test_error_409_411_413_422(cluster):
    c = cluster
    put(c, 'errs2')
    put(c, 'errs2', 'o', b'x')
    expect(c.http('DELETE', c.path('errs2')), 409, True, HTML)
    # 411: neither Content-Length nor chunked
    conn = c.connection()
    try:
        conn.putrequest('PUT', c.path('errs2', 'nolength'))
        conn.putheader('X-Auth-Token', c.token)
        conn.endheaders()
        r = conn.getresponse()
        resp = (r.status, dict((k.lower(), v) for k, v in r.getheaders()),
                r.read())
    finally:
        conn.close()
    expect(resp, 411, b'Missing Content-Length header.', 'text/plain')
    # 413: over max_file_size, answered from the headers alone
    conn = c.connection(timeout=30)
    try:
        conn.putrequest('PUT', c.path('errs2', 'huge'))
        conn.putheader('X-Auth-Token', c.token)
        conn.putheader('Content-Length', '5368709123')
        conn.endheaders()
        r = conn.getresponse()
        resp = (r.status, dict((k.lower(), v) for k, v in r.getheaders()),
                r.read())
    finally:
        conn.close()
    expect(resp, 413, b'Your request is too large.', 'text/plain')
    # exactly max_file_size is allowed through the checks: the proxy then
    # waits for the body, so this is not tried here
    # 422: the body does not match the ETag
    st, h, b = expect(c.http('PUT', c.path('errs2', 'bad'),
                             {'ETag': 'd41d8cd98f00b204e9800998ecf8427e'},
                             b'not empty'), 422, True, HTML)
    expect(c.http('HEAD', c.path('errs2', 'bad')), 404)
    # Content-Type parameters named swift_* are Swift's own
    expect(c.http('PUT', c.path('errs2', 'ctype'),
                  {'Content-Type': 'text/plain; swift_bytes=1'}, b'x'), 400,
           b'Invalid Content-Type, swift_* is not a valid parameter name.',
           HTML)


def test_error_400_limits(cluster):
    c = cluster
    put(c, 'limits')

    def put_obj(name, hdrs=None, container='limits'):
        return c.http('PUT', c.path(container, name), hdrs, b'')
    # object names
    expect(put_obj('a' * 1024), 201)
    expect(put_obj('a' * 1025), 400,
           b'Object name length of 1025 longer than 1024', 'text/plain')
    # the limit counts characters, not bytes
    expect(put_obj('\u00e9' * 1024), 201)
    expect(put_obj('\u00e9' * 1025), 400,
           b'Object name length of 1025 longer than 1024', 'text/plain')
    # container names
    expect(c.http('PUT', c.path('c' * 256)), 201)
    expect(c.http('PUT', c.path('c' * 257)), 400,
           b'Container name length of 257 longer than 256', HTML)
    expect(c.http('DELETE', c.path('c' * 256)), 204)

    # metadata, for objects (PUT and POST), containers and accounts
    for kind, method, path in (
            ('object', 'PUT', c.path('limits', 'm')),
            ('object', 'POST', c.path('limits', 'a' * 1024)),
            ('container', 'PUT', c.path('limits')),
            ('container', 'POST', c.path('limits')),
            ('account', 'POST', c.account_path)):
        pre = 'X-%s-Meta-' % kind.title()

        def req(hdrs):
            return c.http(method, path, hdrs,
                          b'' if kind == 'object' and method == 'PUT'
                          else None)
        ok = 201 if method == 'PUT' else (202 if kind == 'object' else 204)
        if kind == 'container' and method == 'PUT':
            ok = 202
        lower = pre.lower()

        def clear():
            # account and container metadata accumulates over requests
            # (only object PUT/POST replace it): start each check afresh
            if kind == 'object':
                return
            st, h, b = c.http('HEAD', path)
            drop = [('X-Remove-%s-Meta-%s' % (kind.title(), k[len(lower):]),
                     'x') for k in h if k.startswith(lower)]
            for i in range(0, len(drop), 80):
                st, h, b = c.http('POST', path, dict(drop[i:i + 80]))
                assert st == 204, (st, b)
        clear()
        expect(req({pre + 'n' * 128: 'v'}), ok)
        expect(req({pre + 'n' * 129: 'v'}), 400,
               ('Metadata name too long: %s%s' % (
                   lower, 'N' + 'n' * 128)).encode(), 'text/plain')
        clear()
        expect(req({pre + 'a': 'v' * 256}), ok)
        expect(req({pre + 'a': 'v' * 257}), 400,
               ('Metadata value longer than 256: %sA' % lower).encode(),
               'text/plain')
        clear()
        expect(req({pre + 'k%02d' % i: 'v' for i in range(90)}), ok)
        expect(req({pre + 'k%02d' % i: 'v' for i in range(91)}), 400,
               b'Too many metadata items; max 90', 'text/plain')
        if kind != 'object':
            # what is stored counts too: the account or container server
            # refuses the 91st item, with an HTML Content-Type
            expect(req({pre + 'one-more': 'v'}), 400,
                   b'Too many metadata items; max 90', HTML)
        # names + values: 16 * (3 + 253) = 4096 exactly is fine
        clear()
        full = {pre + 'k%02d' % i: 'v' * 253 for i in range(16)}
        expect(req(full), ok)
        full[pre + 'x'] = ''
        expect(req(full), 400, b'Total metadata too large; max 4096',
               'text/plain')
        if kind != 'object':
            expect(req({pre + 'x': 'y'}), 400,
                   b'Total metadata too large; max 4096', HTML)
        expect(req({pre: 'v'}), 400, b'Metadata name cannot be empty',
               'text/plain')
        clear()
    # Content-Type and names that are not UTF-8
    expect(c.http('PUT', c.path('limits') + '/bad%FFname', body=b''), 412,
           b'Invalid UTF8 or contains NULL', HTML)


def test_error_403_cross_account(cluster):
    c = cluster
    t2, a2 = c.user_session('test2:tester2')
    # test's token on test2's account, and the other way round
    st, h, b = c.http('PUT', a2 + '/mine2', auth=t2)
    assert st in (201, 202)
    expect(c.http('GET', a2), 403, True, HTML)
    expect(c.http('GET', a2 + '/mine2'), 403, True, HTML)
    expect(c.http('PUT', a2 + '/mine2/o', body=b'x'), 403, True, HTML)
    expect(c.http('PUT', a2 + '/other'), 403, True, HTML)
    expect(c.http('DELETE', a2 + '/mine2'), 403, True, HTML)
    expect(c.http('GET', c.account_path, auth=t2), 403, True, HTML)
    # an account that nobody owns
    expect(c.http('GET', '/v1/AUTH_nobody'), 403, True, HTML)
    # account PUT/DELETE need allow_account_management (off): 405
    ta, _ = c.user_session('admin:admin')
    st, h, b = c.http('PUT', '/v1/AUTH_newacct', auth=ta)
    assert st == 405, (st, b)
    check_common(h)


# -- CORS ------------------------------------------------------------------

def test_cors(cluster):
    c = cluster
    put(c, 'corsy', headers={
        'X-Container-Meta-Access-Control-Allow-Origin':
            'http://foo.example https://bar.example',
        'X-Container-Meta-Access-Control-Max-Age': '60',
        'X-Container-Meta-Access-Control-Expose-Headers': 'X-Foo'})
    put(c, 'corsy', 'o', b'x', {'X-Object-Meta-Q': '1'})
    obj = c.path('corsy', 'o')

    def methods(v):
        return {m.strip() for m in v.split(',')}
    base = {'GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT'}

    st, h, b = expect(c.http('OPTIONS', obj, {
        'Origin': 'http://foo.example',
        'Access-Control-Request-Method': 'GET'}, auth=False), 200, b'')
    assert h['access-control-allow-origin'] == 'http://foo.example'
    assert h['access-control-max-age'] == '60'
    # Swift's copy middleware adds COPY to the methods
    assert base <= methods(h['access-control-allow-methods']) <= \
        base | {'COPY'}
    assert methods(h['allow']) == methods(h['access-control-allow-methods'])
    assert h['vary'] == 'Origin'
    assert 'access-control-allow-headers' not in h
    # requested headers are echoed back
    st, h, b = expect(c.http('OPTIONS', obj, {
        'Origin': 'https://bar.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'x-auth-token, content-type'},
        auth=False), 200, b'')
    assert h['access-control-allow-origin'] == 'https://bar.example'
    assert {x.strip() for x in h['access-control-allow-headers'].split(',')} \
        == {'x-auth-token', 'content-type'}
    assert h['vary'] == 'Origin, Access-Control-Request-Headers'
    # preflight on the container itself
    expect(c.http('OPTIONS', c.path('corsy'), {
        'Origin': 'http://foo.example',
        'Access-Control-Request-Method': 'GET'}, auth=False), 200)
    # an origin not allowed, no method, a container without CORS: 401
    for hdrs, p in (({'Origin': 'http://evil.example',
                      'Access-Control-Request-Method': 'GET'}, obj),
                    ({'Origin': 'http://foo.example'}, obj),
                    ({'Origin': 'http://foo.example',
                      'Access-Control-Request-Method': 'GET'},
                     c.path('nocorscontainer', 'o'))):
        st, h, b = expect(c.http('OPTIONS', p, hdrs, auth=False), 401, True,
                          HTML)
        assert 'access-control-allow-origin' not in h
        assert base <= methods(h['allow'])
    # OPTIONS without Origin: just the allowed methods
    st, h, b = expect(c.http('OPTIONS', obj, auth=False), 200, b'', HTML)
    assert base <= methods(h['allow'])
    st, h, b = expect(c.http('OPTIONS', '/info', auth=False), 200, b'')
    assert methods(h['allow']) == {'HEAD', 'GET', 'OPTIONS'}

    # the actual request: CORS headers on the answer
    st, h, b = expect(c.http('GET', obj, {'Origin': 'http://foo.example'}),
                      200, b'x')
    assert h['access-control-allow-origin'] == 'http://foo.example'
    assert h['vary'] == 'Origin'
    exposed = {x.strip() for x in
               h['access-control-expose-headers'].split(',')}
    assert exposed == {'cache-control', 'content-language', 'content-type',
                       'expires', 'last-modified', 'pragma', 'etag',
                       'x-timestamp', 'x-trans-id', 'x-openstack-request-id',
                       'x-object-meta-q', 'x-foo'}
    st, h, b = c.http('GET', obj, {'Origin': 'http://evil.example'})
    assert st == 200 and 'access-control-allow-origin' not in h
