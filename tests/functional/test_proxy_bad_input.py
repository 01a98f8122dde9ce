"""Bad input at kura-proxy: each gets the 4xx Swift gives, no daemon dies
or hangs, and nothing half-written is left readable.

Raw sockets, because well-behaved clients cannot send most of this.
"""
import glob
import os
import socket
import time

import pytest

from test_durability import KURA, PROXY, Cluster

pytestmark = pytest.mark.skipif(
    not (os.access(KURA, os.X_OK) and os.access(PROXY, os.X_OK)),
    reason='kura or kura-proxy not built')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp('badinput'))
    assert c.request('PUT', '/c')[0] in (201, 202)
    yield c
    c.stop()


def raw(cluster, data, read=True, timeout=30):
    """Sends bytes as they are; returns (status, body) of the answer, or
    (None, b'') when the proxy closed without one."""
    s = socket.create_connection(('127.0.0.1', cluster.port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return None, b''
        s.shutdown(socket.SHUT_WR)
        buf = b''
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    if not buf.startswith(b'HTTP/1.'):
        return None, buf
    head, _, body = buf.partition(b'\r\n\r\n')
    return int(head.split(b' ')[1]), body


def put(cluster, path, extra=b'', body=b'', length=None):
    cl = b'' if length is False else b'Content-Length: %d\r\n' % (
        len(body) if length is None else length)
    return raw(cluster, b'PUT /v1/AUTH_test' + path + b' HTTP/1.1\r\n'
               b'Host: x\r\nConnection: close\r\nX-Auth-Token: ' +
               cluster.token.encode() + b'\r\n' + cl + extra + b'\r\n' +
               body)


def alive(cluster):
    st, _, _ = cluster.request('HEAD', '/c')
    assert st == 204
    for f in glob.glob(os.path.join(cluster.dir, 'run', '*.pid')):
        with open(f) as fh:
            os.kill(int(fh.read().split()[0]), 0)


def test_names(cluster):
    assert put(cluster, b'/c/a%00b', body=b'x') == \
        (412, b'Invalid UTF8 or contains NULL')
    assert put(cluster, b'/c/a%ffb', body=b'x') == \
        (412, b'Invalid UTF8 or contains NULL')
    assert put(cluster, b'/c/\xff', body=b'x')[0] == 412
    assert put(cluster, b'/c/' + b'x' * 1025, body=b'x') == \
        (400, b'Object name length of 1025 longer than 1024')
    assert put(cluster, b'/' + b'c' * 257)[0] == 400
    # '..' and '.' are names like any other inside an object name
    assert put(cluster, b'/c/../x', body=b'x')[0] == 201
    assert cluster.request('GET', '/c/../x')[2] == b'x'
    alive(cluster)


def test_lengths(cluster):
    assert put(cluster, b'/c/neg', length=-1, body=b'x')[0] == 400
    assert put(cluster, b'/c/nan', extra=b'Content-Length: abc\r\n',
               length=False)[0] == 400
    st, _ = put(cluster, b'/c/huge', length=5368709123)
    assert st == 413
    st, body = put(cluster, b'/c/none', length=False)
    assert (st, body) == (411, b'<html><h1>Length Required</h1><p>Length '
                          b'Required</p></html>') or st == 411
    alive(cluster)


def test_short_body_leaves_no_object(cluster):
    st, _ = raw(cluster, b'PUT /v1/AUTH_test/c/short HTTP/1.1\r\nHost: x\r\n'
                b'X-Auth-Token: ' + cluster.token.encode() +
                b'\r\nContent-Length: 1000\r\n\r\n' + b'y' * 10)
    assert st in (None, 408, 499)
    time.sleep(0.5)
    assert cluster.request('GET', '/c/short')[0] == 404
    alive(cluster)


def test_bad_chunked_leaves_no_object(cluster):
    st, _ = raw(cluster, b'PUT /v1/AUTH_test/c/chunky HTTP/1.1\r\nHost: x\r\n'
                b'X-Auth-Token: ' + cluster.token.encode() +
                b'\r\nTransfer-Encoding: chunked\r\n\r\n'
                b'5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n')
    assert st in (None, 400)
    time.sleep(0.5)
    assert cluster.request('GET', '/c/chunky')[0] == 404
    alive(cluster)


def test_headers(cluster):
    flood = b''.join(b'X-Object-Meta-H%d: v\r\n' % i for i in range(300))
    assert put(cluster, b'/c/flood', extra=flood, body=b'x')[0] == 431
    long_line = b'X-Object-Meta-Long: ' + b'v' * 9000 + b'\r\n'
    assert put(cluster, b'/c/long', extra=long_line, body=b'x')[0] == 400
    assert put(cluster, b'/c/ts', extra=b'X-Timestamp: garbage\r\n',
               body=b'x') == (400, b"X-Timestamp should be a UNIX timestamp "
                              b"float value; was 'garbage'")
    too_many = b''.join(b'X-Object-Meta-M%d: v\r\n' % i for i in range(91))
    assert put(cluster, b'/c/many', extra=too_many, body=b'x') == \
        (400, b'Too many metadata items; max 90')
    assert put(cluster, b'/c/name', extra=b'X-Object-Meta-' + b'n' * 129 +
               b': v\r\n', body=b'x')[0] == 400
    assert put(cluster, b'/c/value', extra=b'X-Object-Meta-V: ' +
               b'v' * 257 + b'\r\n', body=b'x')[0] == 400
    assert put(cluster, b'/c/etag', extra=b'ETag: ' + b'0' * 32 + b'\r\n',
               body=b'x')[0] == 422
    for name in (b'flood', b'long', b'ts', b'many', b'name', b'value',
                 b'etag'):
        assert cluster.request('GET', '/c/' + name.decode())[0] == 404
    alive(cluster)


def test_garbage_requests(cluster):
    for data in (b'\x00\x01\x02\r\n\r\n', b'GET\r\n\r\n',
                 b'GET /v1/AUTH_test/c HTTP/9.9\r\n\r\n',
                 b'PUT /v1/AUTH_test/c/x HTTP/1.1\r\nHost: x\r\n'
                 b'Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx',
                 b'GET ' + b'/a' * 5000 + b' HTTP/1.1\r\nHost: x\r\n\r\n'):
        st, _ = raw(cluster, data)
        # 505 for the unknown HTTP version, as eventlet under Swift
        assert st is None or 400 <= st < 500 or st == 505, (data[:40], st)
    alive(cluster)
