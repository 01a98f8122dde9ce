"""S3 bucket CORS on kura-proxy, as AWS S3 behaves: Put/Get/DeleteBucketCors
with boto3, a browser's unsigned preflight (OPTIONS) with http.client, the
Access-Control-* headers of actual signed requests, and the registry that
lets a preflight, which names no account, find the bucket's account.

The Swift API's own CORS (container metadata, tests/functional/
test_swift_api.py::test_cors) stays as it was: checked here once more."""

import base64
import hashlib
import html
import os
import re
import socket
import subprocess
import time

import pytest

from cluster import BUILD, TARGET, cluster  # noqa: F401 (fixture)
import s3_clients
from s3_clients import client, s3, s3b  # noqa: F401 (fixtures)

boto3 = pytest.importorskip('boto3')
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.skipif(
    TARGET != 'kura', reason='the S3 API is tested on kura-proxy')

ORIGIN = 'https://app.example'
NOT_ALLOWED = ('CORSResponse: This CORS request is not allowed. This is '
               'usually because the evalution of Origin, request method / '
               'Access-Control-Request-Method or Access-Control-Request-'
               'Headers are not whitelisted by the resource\'s CORS spec.')
NOT_ENABLED = 'CORSResponse: CORS is not enabled for this bucket.'
VARY = ('Origin, Access-Control-Request-Headers, '
        'Access-Control-Request-Method')

RULES = [
    {'ID': 'app', 'AllowedOrigins': [ORIGIN, 'https://*.app.example'],
     'AllowedMethods': ['GET', 'PUT'],
     'AllowedHeaders': ['Content-Type', 'x-amz-*'],
     'ExposeHeaders': ['ETag', 'x-amz-request-id'], 'MaxAgeSeconds': 600},
    {'AllowedOrigins': ['*'], 'AllowedMethods': ['GET', 'HEAD']},
]


def error_of(excinfo):
    r = excinfo.value.response
    return r['ResponseMetadata']['HTTPStatusCode'], r['Error']['Code'], \
        r['Error'].get('Message')


def raw(cluster, method, path, headers=None, port=None, body=None):
    """One request as a browser sends a preflight: no credentials."""
    st, h, b = s3_clients.raw(cluster, method, path, headers, body, port)
    return st, h, b.decode()


def preflight(cluster, path, origin=ORIGIN, method='GET', headers=None,
              **kw):
    h = {}
    if origin is not None:
        h['Origin'] = origin
    if method is not None:
        h['Access-Control-Request-Method'] = method
    if headers is not None:
        h['Access-Control-Request-Headers'] = headers
    return raw(cluster, 'OPTIONS', path, h, **kw)


def xml_code(body):
    m = re.search(r'<Code>([^<]*)</Code>.*<Message>([^<]*)</Message>', body,
                  re.S)
    return tuple(html.unescape(g) for g in m.groups()) if m else (None,
                                                                  None)


def cors_headers(h):
    return {k: v for k, v in h.items() if k.startswith('access-control-')}


@pytest.fixture(scope='module')
def bucket(s3):
    s3.create_bucket(Bucket='corsbucket')
    s3.put_object(Bucket='corsbucket', Key='k', Body=b'hello')
    s3.put_bucket_cors(Bucket='corsbucket',
                       CORSConfiguration={'CORSRules': RULES})
    return 'corsbucket'


def test_put_get_delete_round_trip(s3):
    s3.create_bucket(Bucket='corsround')
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket='corsround')
    assert error_of(e)[:2] == (404, 'NoSuchCORSConfiguration')
    # boto3 sends Content-MD5 with it
    r = s3.put_bucket_cors(Bucket='corsround',
                           CORSConfiguration={'CORSRules': RULES})
    assert r['ResponseMetadata']['HTTPStatusCode'] == 200
    got = s3.get_bucket_cors(Bucket='corsround')['CORSRules']
    assert got == RULES
    # a second PUT replaces the rules
    s3.put_bucket_cors(Bucket='corsround', CORSConfiguration={'CORSRules': [
        {'AllowedOrigins': ['*'], 'AllowedMethods': ['DELETE']}]})
    assert s3.get_bucket_cors(Bucket='corsround')['CORSRules'] == [
        {'AllowedOrigins': ['*'], 'AllowedMethods': ['DELETE']}]
    r = s3.delete_bucket_cors(Bucket='corsround')
    assert r['ResponseMetadata']['HTTPStatusCode'] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket='corsround')
    assert error_of(e)[:2] == (404, 'NoSuchCORSConfiguration')
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket='nosuchcorsbucket',
                           CORSConfiguration={'CORSRules': RULES})
    assert error_of(e)[:2] == (404, 'NoSuchBucket')
    s3.delete_bucket(Bucket='corsround')


def test_bad_configurations(s3):
    s3.create_bucket(Bucket='corsbad')

    def refused(rules):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_cors(Bucket='corsbad',
                               CORSConfiguration={'CORSRules': rules})
        return error_of(e)

    st, code, msg = refused([{'AllowedOrigins': ['*'],
                              'AllowedMethods': ['GET', 'PATCH']}])
    assert (st, code) == (400, 'InvalidRequest')
    assert msg == ('Found unsupported HTTP method in CORS config. '
                   'Unsupported method is PATCH')
    st, code, msg = refused([{'AllowedOrigins': ['https://*.a.*'],
                              'AllowedMethods': ['GET']}])
    assert (st, code) == (400, 'InvalidRequest')
    assert 'can not have more than one wildcard' in msg
    st, code, msg = refused([{'AllowedOrigins': ['*'],
                              'AllowedMethods': ['GET'],
                              'AllowedHeaders': ['x-*-*']}])
    assert (st, code) == (400, 'InvalidRequest')
    many = [{'AllowedOrigins': ['*'], 'AllowedMethods': ['GET']}] * 101
    assert refused(many)[:2] == (400, 'MalformedXML')
    assert refused([])[:2] == (400, 'MalformedXML')
    assert refused([{'AllowedOrigins': ['*'], 'AllowedMethods': ['GET'],
                     'ID': 'x' * 256}])[:2] == (400, 'MalformedXML')
    # 100 rules are fine
    s3.put_bucket_cors(Bucket='corsbad', CORSConfiguration={
        'CORSRules': many[:100]})
    assert len(s3.get_bucket_cors(Bucket='corsbad')['CORSRules']) == 100
    s3.delete_bucket_cors(Bucket='corsbad')
    s3.delete_bucket(Bucket='corsbad')


def _signed_put_cors(cluster, s3, bucket, body, md5=None):
    """PutBucketCors with a body (and Content-MD5) boto3 would not send."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    headers = {}
    if md5 is not None:
        headers['Content-MD5'] = base64.b64encode(
            hashlib.md5(md5).digest()).decode()
    r = AWSRequest(method='PUT', url='http://%s:%d/%s?cors' % (
        cluster.host, cluster.port, bucket), data=body, headers=headers)
    S3SigV4Auth(s3._request_signer._credentials, 's3',
                'us-east-1').add_auth(r)
    return raw(cluster, 'PUT', '/%s?cors' % bucket,
               dict(r.prepare().headers), body=body)


def test_malformed_and_digest(cluster, s3):
    s3.create_bucket(Bucket='corsxml')
    for body in (b'', b'<CORSConfiguration>', b'not xml',
                 b'<CORSConfiguration/>',
                 b'<CORSConfiguration><CORSRule><AllowedMethod>GET'
                 b'</AllowedMethod></CORSRule></CORSConfiguration>',
                 b'<CORSConfiguration><CORSRule><AllowedOrigin>*'
                 b'</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'
                 b'<Bogus/></CORSRule></CORSConfiguration>',
                 b'<CORSConfiguration><CORSRule><AllowedOrigin>*'
                 b'</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'
                 b'<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule>'
                 b'</CORSConfiguration>',
                 b'<!DOCTYPE x [<!ENTITY a "b">]><CORSConfiguration/>'):
        st, h, b = _signed_put_cors(cluster, s3, 'corsxml', body, md5=body)
        assert (st, xml_code(b)[0]) == (400, 'MalformedXML'), body
    good = (b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/'
            b'2006-03-01/"><CORSRule><AllowedOrigin>*</AllowedOrigin>'
            b'<AllowedMethod>GET</AllowedMethod></CORSRule>'
            b'</CORSConfiguration>')
    # Content-MD5 is checked when sent, not required
    st, h, b = _signed_put_cors(cluster, s3, 'corsxml', good)
    assert st == 200, b
    st, h, b = _signed_put_cors(cluster, s3, 'corsxml', good, md5=b'x')
    assert (st, xml_code(b)[0]) == (400, 'BadDigest')
    # over 64 KiB
    big = good.replace(b'<AllowedOrigin>*', b' ' * 65536 +
                       b'<AllowedOrigin>*')
    st, h, b = _signed_put_cors(cluster, s3, 'corsxml', big, md5=big)
    assert (st, xml_code(b)[0]) == (400, 'MalformedXML')
    # another user of the account without .admin may not change it
    other = client(cluster, 'test:tester3', 'testing3')
    with pytest.raises(ClientError) as e:
        other.put_bucket_cors(Bucket='corsxml', CORSConfiguration={
            'CORSRules': RULES})
    assert error_of(e)[:2] == (403, 'AccessDenied')
    assert s3.get_bucket_cors(Bucket='corsxml')['CORSRules'] == [
        {'AllowedOrigins': ['*'], 'AllowedMethods': ['GET']}]
    s3.delete_bucket_cors(Bucket='corsxml')
    s3.delete_bucket(Bucket='corsxml')


def test_preflight(cluster, bucket):
    # allowed: the first rule, by its exact origin
    st, h, b = preflight(cluster, '/corsbucket/k', method='PUT',
                         headers='content-type, X-Amz-Date')
    assert (st, b) == (200, '')
    assert cors_headers(h) == {
        'access-control-allow-origin': ORIGIN,
        'access-control-allow-methods': 'GET, PUT',
        'access-control-allow-headers': 'content-type, X-Amz-Date',
        'access-control-expose-headers': 'ETag, x-amz-request-id',
        'access-control-max-age': '600',
        'access-control-allow-credentials': 'true'}
    assert h['vary'] == VARY
    # a wildcard origin of the first rule, on the bucket itself
    st, h, b = preflight(cluster, '/corsbucket',
                         origin='https://eu.app.example')
    assert st == 200
    assert h['access-control-allow-origin'] == 'https://eu.app.example'
    # the second rule: '*' answers '*', and no credentials
    st, h, b = preflight(cluster, '/corsbucket/k', origin='http://other',
                         method='HEAD')
    assert st == 200
    assert cors_headers(h) == {'access-control-allow-origin': '*',
                               'access-control-allow-methods': 'GET, HEAD'}
    # wrong origin for PUT; a header no rule allows; origins are
    # case-sensitive
    for kw in ({'origin': 'http://other', 'method': 'PUT'},
               {'method': 'PUT', 'headers': 'x-custom'},
               {'origin': ORIGIN.upper(), 'method': 'PUT'}):
        st, h, b = preflight(cluster, '/corsbucket/k', **kw)
        assert st == 403, kw
        assert xml_code(b) == ('AccessForbidden', NOT_ALLOWED)
        assert '<ResourceType>OBJECT</ResourceType>' in b
        assert '<Method>%s</Method>' % kw['method'] in b
        assert not cors_headers(h)
    # missing Origin, missing or bad method
    st, h, b = preflight(cluster, '/corsbucket/k', origin=None)
    assert (st, xml_code(b)) == (400, (
        'BadRequest', 'Insufficient information. Origin request header '
        'needed.'))
    st, h, b = preflight(cluster, '/corsbucket/k', method=None)
    assert (st, xml_code(b)) == (400, (
        'BadRequest', 'Invalid Access-Control-Request-Method: null'))
    st, h, b = preflight(cluster, '/corsbucket/k', method='PATCH')
    assert st == 400
    # a bucket without CORS, and no bucket at all
    for path in ('/nosuchbucket/k', '/corsbucket-none'):
        st, h, b = preflight(cluster, path)
        assert (st, xml_code(b)) == (403, ('AccessForbidden', NOT_ENABLED))


def with_origin(cluster, origin):
    """A client whose every request carries Origin, as a browser's."""
    c = client(cluster)
    c.meta.events.register('before-sign.s3.*', lambda request, **kw:
                           request.headers.__setitem__('Origin', origin))
    return c


def headers_of(r):
    return {k.lower(): v for k, v in
            r['ResponseMetadata']['HTTPHeaders'].items()}


def test_actual_requests(cluster, bucket):
    app = with_origin(cluster, ORIGIN)
    r = app.get_object(Bucket='corsbucket', Key='k')
    assert r['Body'].read() == b'hello'
    h = headers_of(r)
    assert cors_headers(h) == {
        'access-control-allow-origin': ORIGIN,
        'access-control-allow-methods': 'GET, PUT',
        'access-control-expose-headers': 'ETag, x-amz-request-id',
        'access-control-max-age': '600',
        'access-control-allow-credentials': 'true'}
    assert h['vary'] == VARY
    # an error answer gets them too
    with pytest.raises(ClientError) as e:
        app.get_object(Bucket='corsbucket', Key='nosuchkey')
    assert error_of(e)[1] == 'NoSuchKey'
    assert headers_of(e.value.response)['access-control-allow-origin'] == \
        ORIGIN
    # a bucket listing is a GET of the bucket
    h = headers_of(app.list_objects_v2(Bucket='corsbucket'))
    assert h['access-control-allow-origin'] == ORIGIN
    # DELETE is no rule's method: no CORS headers, served all the same
    app.put_object(Bucket='corsbucket', Key='gone', Body=b'x')
    r = app.delete_object(Bucket='corsbucket', Key='gone')
    assert r['ResponseMetadata']['HTTPStatusCode'] == 204
    assert not cors_headers(headers_of(r))

    evil = with_origin(cluster, 'http://evil')
    # HEAD from any origin: the '*' rule, without credentials
    h = headers_of(evil.head_object(Bucket='corsbucket', Key='k'))
    assert h['access-control-allow-origin'] == '*'
    assert h['access-control-allow-methods'] == 'GET, HEAD'
    assert 'access-control-allow-credentials' not in h
    # PUT from it: no rule, no headers, the object written
    r = evil.put_object(Bucket='corsbucket', Key='k2', Body=b'x')
    assert not cors_headers(headers_of(r))
    assert client(cluster).get_object(Bucket='corsbucket',
                                      Key='k2')['Body'].read() == b'x'
    # no Origin, no CORS headers
    r = client(cluster).get_object(Bucket='corsbucket', Key='k')
    assert not cors_headers(headers_of(r))


def test_registry_cannot_be_hijacked(cluster, s3, s3b, bucket):
    # another account has a bucket of the same name: Kura's names are per
    # account, the registry's across the cluster
    s3b.create_bucket(Bucket='corsbucket')
    with pytest.raises(ClientError) as e:
        s3b.put_bucket_cors(Bucket='corsbucket', CORSConfiguration={
            'CORSRules': [{'AllowedOrigins': ['http://evil'],
                           'AllowedMethods': ['GET']}]})
    assert error_of(e)[:2] == (409, 'BucketAlreadyExists')
    # the preflights still find AUTH_test's rules
    st, h, b = preflight(cluster, '/corsbucket/k', origin='http://evil',
                         method='PUT')
    assert st == 403
    st, h, b = preflight(cluster, '/corsbucket/k', method='PUT')
    assert st == 200
    # a name another account no longer uses with CORS is free
    s3.create_bucket(Bucket='corsmoving')
    s3.put_bucket_cors(Bucket='corsmoving', CORSConfiguration={
        'CORSRules': [{'AllowedOrigins': ['http://a'],
                       'AllowedMethods': ['GET']}]})
    s3b.create_bucket(Bucket='corsmoving')
    with pytest.raises(ClientError) as e:
        s3b.put_bucket_cors(Bucket='corsmoving', CORSConfiguration={
            'CORSRules': [{'AllowedOrigins': ['http://b'],
                           'AllowedMethods': ['GET']}]})
    assert error_of(e)[0] == 409
    s3.delete_bucket_cors(Bucket='corsmoving')
    assert preflight(cluster, '/corsmoving', origin='http://a')[0] == 403
    s3b.put_bucket_cors(Bucket='corsmoving', CORSConfiguration={
        'CORSRules': [{'AllowedOrigins': ['http://b'],
                       'AllowedMethods': ['GET']}]})
    assert preflight(cluster, '/corsmoving', origin='http://b')[0] == 200
    assert preflight(cluster, '/corsmoving', origin='http://a')[0] == 403
    # DeleteBucket takes its registration along; then the other account's
    # PUT is free again
    s3b.delete_bucket(Bucket='corsmoving')
    assert preflight(cluster, '/corsmoving', origin='http://b')[0] == 403
    s3.put_bucket_cors(Bucket='corsmoving', CORSConfiguration={
        'CORSRules': [{'AllowedOrigins': ['http://a'],
                       'AllowedMethods': ['GET']}]})
    assert preflight(cluster, '/corsmoving', origin='http://a')[0] == 200
    # a registration whose bucket went another way (a Swift DELETE) is
    # stale: the other account takes the name over
    st, h, b = cluster.http('DELETE', cluster.path('corsmoving'))
    assert st == 204
    assert preflight(cluster, '/corsmoving', origin='http://a')[0] == 403
    s3b.create_bucket(Bucket='corsmoving')
    s3b.put_bucket_cors(Bucket='corsmoving', CORSConfiguration={
        'CORSRules': [{'AllowedOrigins': ['http://b'],
                       'AllowedMethods': ['GET']}]})
    assert preflight(cluster, '/corsmoving', origin='http://b')[0] == 200
    s3b.delete_bucket(Bucket='corsmoving')
    s3b.delete_bucket(Bucket='corsbucket')
    # the registry is no user's: not even the reseller admin reaches it
    token, _ = cluster.authenticate('admin:admin', 'admin')
    for method in ('GET', 'PUT', 'DELETE'):
        st, h, b = cluster.http(method, '/v1/.s3api_cors/corsbucket',
                                auth=token)
        assert st == 403, method
    st, h, b = cluster.http('GET', '/v1/.s3api_cors', auth=False)
    assert st == 401


def test_swift_options_unchanged(cluster, bucket):
    # a Swift container with Swift's CORS metadata, and the S3 bucket's
    # container: /v1/ OPTIONS are Swift's (401, Allow), not S3's
    c = cluster
    st, h, b = c.http('PUT', c.path('swiftcors'), {
        'X-Container-Meta-Access-Control-Allow-Origin': 'http://s.example'})
    assert st in (201, 202)
    st, h, b = c.http('OPTIONS', c.path('swiftcors'), {
        'Origin': 'http://s.example',
        'Access-Control-Request-Method': 'GET'}, auth=False)
    assert st == 200
    assert h['access-control-allow-origin'] == 'http://s.example'
    assert 'allow' in h
    st, h, b = c.http('OPTIONS', c.path('corsbucket', 'k'), {
        'Origin': ORIGIN, 'Access-Control-Request-Method': 'GET'},
        auth=False)
    assert st == 401 and 'access-control-allow-origin' not in h
    st, h, b = c.http('OPTIONS', '/info', auth=False)
    assert st == 200 and 'HEAD' in h['allow']
    c.http('DELETE', c.path('swiftcors'))


def _free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope='module')
def proxy2(cluster):
    """A second kura-proxy on the same servers, with storage_domain and
    s3api's cors_preflight_allow_origin set."""
    etc = os.path.join(cluster.dir, 'etc')
    with open(os.path.join(etc, 'proxy-server.conf')) as f:
        conf = f.read()
    port = _free_port()
    conf = re.sub(r'^bind_port = \d+$', 'bind_port = %d' % port, conf,
                  flags=re.M)
    conf = conf.replace('[filter:s3api]\n', '[filter:s3api]\n'
                        'storage_domain = s3.test\n'
                        'cors_preflight_allow_origin = https://global.example'
                        '\n', 1)
    path = os.path.join(cluster.tmp, 'proxy2.conf')
    with open(path, 'w') as f:
        f.write(conf)
    log = open(os.path.join(cluster.tmp, 'proxy2.out'), 'w')
    p = subprocess.Popen([os.path.join(BUILD, 'proxy', 'kura-proxy'), path],
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                if p.poll() is not None or time.time() > deadline:
                    raise RuntimeError('second proxy did not start')
                time.sleep(0.1)
        yield port
    finally:
        p.terminate()
        p.wait(30)
        log.close()


def test_virtual_hosted_and_global_origin(cluster, bucket, proxy2):
    # virtual-hosted style: the Host names the bucket
    st, h, b = raw(cluster, 'OPTIONS', '/k', {
        'Host': 'corsbucket.s3.test', 'Origin': ORIGIN,
        'Access-Control-Request-Method': 'GET'}, port=proxy2)
    assert st == 200 and h['access-control-allow-origin'] == ORIGIN
    st, h, b = raw(cluster, 'OPTIONS', '/', {
        'Host': 'corsbucket.s3.test:%d' % proxy2, 'Origin': 'http://x',
        'Access-Control-Request-Method': 'PUT'}, port=proxy2)
    assert st == 403
    # cors_preflight_allow_origin answers S3-looking preflights (they ask
    # to send Authorization) without looking at any bucket, as s3api
    hdrs = {'Origin': 'https://global.example',
            'Access-Control-Request-Method': 'DELETE',
            'Access-Control-Request-Headers': 'Authorization, X-Amz-Date'}
    st, h, b = raw(cluster, 'OPTIONS', '/nosuchbucket/k', hdrs, port=proxy2)
    assert st == 200
    assert h['access-control-allow-origin'] == 'https://global.example'
    assert h['access-control-allow-headers'] == 'authorization, x-amz-date'
    assert h['vary'] == 'Origin, Access-Control-Request-Headers'
    hdrs['Origin'] = 'https://other.example'
    st, h, b = raw(cluster, 'OPTIONS', '/nosuchbucket/k', hdrs, port=proxy2)
    assert st == 401 and 'access-control-allow-origin' not in h
