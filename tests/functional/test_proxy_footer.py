"""kura-proxy's uploads as the object servers see them: the body hashed
once by the proxy and sent in Swift's metadata-footer form
(doc/proxy.md, "Object PUT"), against a `kura aio` cluster of 4 nodes.

What a user relies on: the ETag answered is the MD5 of the body, every
replica stores exactly the body, and a client ETag that does not match
leaves nothing behind on any node.
"""
import glob
import hashlib
import http.client
import json
import os
import time

import pytest

from test_durability import KURA, PROXY, Cluster

pytestmark = pytest.mark.skipif(
    not (os.access(KURA, os.X_OK) and os.access(PROXY, os.X_OK)),
    reason='kura or kura-proxy not built')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp('footer'))
    assert c.request('PUT', '/f')[0] in (201, 202)
    yield c
    c.stop()


def temp_files(c):
    return glob.glob(os.path.join(c.dir, 'nodes', '*', '*', 'tmp', '*'))


def data_files(c):
    return glob.glob(os.path.join(c.dir, 'nodes', '*', '*', 'objects', '**',
                                  '*.data'), recursive=True)


def wait_no_temp_files(c):
    deadline = time.time() + 10
    while temp_files(c) and time.time() < deadline:
        time.sleep(0.1)
    return temp_files(c)


def test_etag_is_the_md5_and_every_replica_has_the_body(cluster):
    c = cluster
    body = os.urandom(3 << 20) + b'\r\n--'
    md5 = hashlib.md5(body).hexdigest()
    before = set(data_files(c))
    # the client's ETag may be quoted and in upper case
    st, h, _ = c.request('PUT', '/f/o1', body,
                         {'ETag': '"%s"' % md5.upper()})
    assert st == 201 and h['etag'] == md5
    new = set(data_files(c)) - before
    assert len(new) == 3, new
    for f in new:   # the MIME framing never reaches the disk
        with open(f, 'rb') as fh:
            assert hashlib.md5(fh.read()).hexdigest() == md5
    st, h, got = c.request('GET', '/f/o1')
    assert st == 200 and got == body and h['etag'] == md5


def test_chunked_and_empty_uploads(cluster):
    c = cluster
    conn = c.conn()
    body = b'chunk' * 100000
    conn.putrequest('PUT', '/v1/AUTH_test/f/o2')
    conn.putheader('X-Auth-Token', c.token)
    conn.putheader('Transfer-Encoding', 'chunked')
    conn.endheaders()
    for i in range(0, len(body), 65536):
        piece = body[i:i + 65536]
        conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
    conn.send(b'0\r\n\r\n')
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 201
    assert r.getheader('Etag') == hashlib.md5(body).hexdigest()
    assert c.request('GET', '/f/o2')[2] == body
    st, h, _ = c.request('PUT', '/f/empty', b'')
    assert st == 201 and h['etag'] == hashlib.md5(b'').hexdigest()
    st, h, got = c.request('GET', '/f/empty')
    assert st == 200 and got == b'' and h['content-length'] == '0'


def test_wrong_client_etag_commits_nowhere(cluster):
    c = cluster
    body = b'z' * (2 << 20)
    before = set(data_files(c))
    st, h, got = c.request('PUT', '/f/bad', body, {'ETag': '0' * 32})
    assert st == 422
    assert got == (b'<html><h1>Unprocessable Entity</h1><p>Unable to '
                   b'process the contained instructions</p></html>')
    assert c.request('HEAD', '/f/bad')[0] == 404
    assert set(data_files(c)) == before
    assert wait_no_temp_files(c) == []
    # the container did not list it either
    st, _, listing = c.request('GET', '/f?format=json')
    assert 'bad' not in [o['name'] for o in json.loads(listing)]


def test_copy_keeps_the_md5(cluster):
    c = cluster
    body = b'copy me' * 1000
    assert c.request('PUT', '/f/src', body)[0] == 201
    st, h, _ = c.request('PUT', '/f/dst', b'', {'X-Copy-From': '/f/src'})
    assert st == 201 and h['etag'] == hashlib.md5(body).hexdigest()
    assert c.request('GET', '/f/dst')[2] == body
