"""The S3 API of kura-proxy with real, unmodified clients: boto3 (Debian's
python3-boto3), the `aws` CLI (awscli) and `s3cmd`, plus raw HTTP for
what clients never send (tampered signatures and bodies).

A bucket is a container of the signing user's account and an object is
one object to both APIs: what S3 writes, Swift reads, and back."""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import urllib.parse
import urllib.request

import pytest

from cluster import TARGET, cluster  # noqa: F401 (fixture)
from s3_clients import client, endpoint, s3  # noqa: F401 (fixture)
from s3_upload import multipart_put

boto3 = pytest.importorskip('boto3')
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.skipif(
    TARGET != 'kura', reason='the S3 API is tested on kura-proxy')

ACCESS, SECRET = 'test:tester', 'testing'


def error_code(excinfo):
    return excinfo.value.response['Error']['Code']


def status_of(excinfo):
    return excinfo.value.response['ResponseMetadata']['HTTPStatusCode']


# -- buckets ----------------------------------------------------------------

def test_bucket_life_cycle(s3):
    s3.create_bucket(Bucket='life')
    assert 'life' in [b['Name'] for b in s3.list_buckets()['Buckets']]
    s3.head_bucket(Bucket='life')
    loc = s3.get_bucket_location(Bucket='life')
    assert loc['LocationConstraint'] is None  # us-east-1
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket='life')
    assert error_code(e) == 'BucketAlreadyOwnedByYou'
    assert status_of(e) == 409
    s3.put_object(Bucket='life', Key='x', Body=b'1')
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket='life')
    assert error_code(e) == 'BucketNotEmpty'
    s3.delete_object(Bucket='life', Key='x')
    s3.delete_bucket(Bucket='life')
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket='life')
    assert status_of(e) == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects(Bucket='life')
    assert error_code(e) == 'NoSuchBucket'
    assert 'life' not in [b['Name'] for b in s3.list_buckets()['Buckets']]


def test_location_constraint(s3):
    s3.create_bucket(Bucket='located', CreateBucketConfiguration={
        'LocationConstraint': 'us-east-1'})
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket='elsewhere', CreateBucketConfiguration={
            'LocationConstraint': 'eu-west-1'})
    assert error_code(e) == 'InvalidLocationConstraint'


@pytest.mark.parametrize('name', ['ab', 'UPPER', 'a..b', '-ab', 'a_b',
                                  '192.168.1.1', 'x' * 64])
def test_invalid_bucket_names(cluster, name):
    s3 = client(cluster)
    s3.meta.events.unregister('before-parameter-build.s3',
                              botocore.handlers.validate_bucket_name)
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e) == 'InvalidBucketName'
    assert status_of(e) == 400


# -- objects ----------------------------------------------------------------

def test_put_get_head_delete(s3):
    s3.create_bucket(Bucket='objs')
    body = os.urandom(100000)
    md5 = hashlib.md5(body).hexdigest()
    r = s3.put_object(Bucket='objs', Key='dir/a b+c', Body=body,
                      ContentType='application/x-test',
                      Metadata={'color': 'blue', 'two-words': 'u'})
    assert r['ETag'] == '"%s"' % md5
    g = s3.get_object(Bucket='objs', Key='dir/a b+c')
    assert g['Body'].read() == body
    assert g['ETag'] == '"%s"' % md5
    assert g['ContentType'] == 'application/x-test'
    assert g['Metadata'] == {'color': 'blue', 'two-words': 'u'}
    assert g['ContentLength'] == len(body)
    h = s3.head_object(Bucket='objs', Key='dir/a b+c')
    assert h['ContentLength'] == len(body)
    assert h['ETag'] == '"%s"' % md5
    r = s3.get_object(Bucket='objs', Key='dir/a b+c', Range='bytes=10-19')
    assert r['Body'].read() == body[10:20]
    assert r['ContentRange'] == 'bytes 10-19/%d' % len(body)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='objs', Key='dir/a b+c', IfMatch='"nope"')
    assert error_code(e) == 'PreconditionFailed'
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='objs', Key='dir/a b+c', IfNoneMatch='"%s"' % md5)
    assert status_of(e) == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='objs', Key='dir/a b+c', Range='bytes=200000-')
    assert error_code(e) == 'InvalidRange'
    g = s3.get_object(Bucket='objs', Key='dir/a b+c',
                      ResponseContentType='text/x-over',
                      ResponseContentDisposition='attachment; filename=x')
    assert g['ContentType'] == 'text/x-over'
    assert g['ContentDisposition'] == 'attachment; filename=x'
    s3.delete_object(Bucket='objs', Key='dir/a b+c')
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='objs', Key='dir/a b+c')
    assert error_code(e) == 'NoSuchKey'
    # deleting what is gone is a success, as on S3
    s3.delete_object(Bucket='objs', Key='dir/a b+c')
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='nobucket', Key='k')
    assert error_code(e) == 'NoSuchBucket'
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket='nobucket', Key='k', Body=b'x')
    assert error_code(e) == 'NoSuchBucket'


def test_content_md5(s3, cluster):
    s3.create_bucket(Bucket='digests')
    body = b'hello digest'
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket='digests', Key='ok', Body=body, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b'other').digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket='digests', Key='bad', Body=body, ContentMD5=bad)
    assert error_code(e) == 'BadDigest'
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket='digests', Key='bad', Body=body,
                      ContentMD5='notbase64')
    assert error_code(e) == 'InvalidDigest'
    with pytest.raises(ClientError):
        s3.head_object(Bucket='digests', Key='bad')


def test_copy_object(s3):
    s3.create_bucket(Bucket='copies')
    s3.put_object(Bucket='copies', Key='src', Body=b'copy me',
                  ContentType='text/plain', Metadata={'a': '1'})
    r = s3.copy_object(Bucket='copies', Key='dst',
                       CopySource={'Bucket': 'copies', 'Key': 'src'})
    etag = '"%s"' % hashlib.md5(b'copy me').hexdigest()
    assert r['CopyObjectResult']['ETag'] == etag
    assert isinstance(r['CopyObjectResult']['LastModified'],
                      datetime.datetime)
    h = s3.head_object(Bucket='copies', Key='dst')
    assert h['Metadata'] == {'a': '1'}
    assert h['ContentType'] == 'text/plain'
    s3.copy_object(Bucket='copies', Key='dst2', MetadataDirective='REPLACE',
                   Metadata={'b': '2'}, ContentType='text/x-new',
                   CopySource={'Bucket': 'copies', 'Key': 'src'})
    h = s3.head_object(Bucket='copies', Key='dst2')
    assert h['Metadata'] == {'b': '2'}
    assert h['ContentType'] == 'text/x-new'
    assert s3.get_object(Bucket='copies',
                         Key='dst2')['Body'].read() == b'copy me'
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket='copies', Key='dst3',
                       CopySource={'Bucket': 'copies', 'Key': 'missing'})
    assert error_code(e) == 'NoSuchKey'


def test_delete_objects(s3):
    s3.create_bucket(Bucket='multidel')
    keys = ['k%04d' % i for i in range(1000)]
    for k in keys[:20]:
        s3.put_object(Bucket='multidel', Key=k, Body=b'x')
    r = s3.delete_objects(Bucket='multidel', Delete={
        'Objects': [{'Key': k} for k in keys]})
    assert sorted(d['Key'] for d in r['Deleted']) == keys
    assert not r.get('Errors')
    assert s3.list_objects_v2(Bucket='multidel')['KeyCount'] == 0
    s3.put_object(Bucket='multidel', Key='q', Body=b'x')
    r = s3.delete_objects(Bucket='multidel', Delete={
        'Objects': [{'Key': 'q'}], 'Quiet': True})
    assert not r.get('Deleted')
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket='multidel', Delete={
            'Objects': [{'Key': 'k%d' % i} for i in range(1001)]})
    assert error_code(e) == 'MalformedXML'


# -- listings ---------------------------------------------------------------

@pytest.fixture(scope='module')
def listed(s3):
    """2,500 keys in a/ b/ c/ (plus top-level ones) to page through."""
    s3.create_bucket(Bucket='listing')
    keys = []
    for d in ('a', 'b', 'c'):
        for i in range(800):
            keys.append('%s/%04d' % (d, i))
    keys += ['top%03d' % i for i in range(100)]
    # through the Swift API's bulk-free path: one PUT per key, in parallel
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket='listing', Key=k,
                                            Body=k.encode()), keys))
    return sorted(keys)


def test_list_v1_pagination(s3, listed):
    got, marker = [], ''
    pages = 0
    while True:
        r = s3.list_objects(Bucket='listing', Marker=marker, MaxKeys=700)
        got += [c['Key'] for c in r.get('Contents', [])]
        pages += 1
        if not r['IsTruncated']:
            break
        marker = got[-1]
    assert got == listed
    assert pages == 4
    r = s3.list_objects(Bucket='listing')
    assert len(r['Contents']) == 1000 and r['IsTruncated']
    c = r['Contents'][0]
    assert c['ETag'] == '"%s"' % hashlib.md5(c['Key'].encode()).hexdigest()
    assert c['Size'] == len(c['Key'])
    assert c['StorageClass'] == 'STANDARD'
    assert c['Owner']['ID'] == ACCESS


def test_list_v2_pagination_and_delimiter(s3, listed):
    paginator = s3.get_paginator('list_objects_v2')
    got = []
    for page in paginator.paginate(Bucket='listing',
                                   PaginationConfig={'PageSize': 999}):
        got += [c['Key'] for c in page.get('Contents', [])]
    assert got == listed
    r = s3.list_objects_v2(Bucket='listing', Delimiter='/')
    assert [p['Prefix'] for p in r['CommonPrefixes']] == ['a/', 'b/', 'c/']
    assert [c['Key'] for c in r['Contents']] == \
        ['top%03d' % i for i in range(100)]
    assert r['KeyCount'] == 103
    r = s3.list_objects_v2(Bucket='listing', Prefix='b/', MaxKeys=5,
                           StartAfter='b/0100')
    assert [c['Key'] for c in r['Contents']] == \
        ['b/%04d' % i for i in range(101, 106)]
    assert r['IsTruncated']
    r2 = s3.list_objects_v2(Bucket='listing', Prefix='b/', MaxKeys=5,
                            ContinuationToken=r['NextContinuationToken'])
    assert r2['Contents'][0]['Key'] == 'b/0106'
    r = s3.list_objects(Bucket='listing', Delimiter='/', MaxKeys=2)
    assert r['IsTruncated'] and r['NextMarker'] == 'b/'
    r = s3.list_objects_v2(Bucket='listing', MaxKeys=0)
    assert r['KeyCount'] == 0 and not r['IsTruncated']


def test_list_encoding_type_url(s3):
    s3.create_bucket(Bucket='encoded')
    s3.put_object(Bucket='encoded', Key='sp ace/\u00e9', Body=b'')
    r = s3.list_objects_v2(Bucket='encoded')  # boto3 asks for url, decodes
    assert [c['Key'] for c in r['Contents']] == ['sp ace/\u00e9']


def test_bad_listing_params(s3, listed):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket='listing', ContinuationToken='!!!')
    assert error_code(e) == 'InvalidArgument'


# -- authentication ---------------------------------------------------------

def test_bad_credentials(cluster):
    with pytest.raises(ClientError) as e:
        client(cluster, secret='wrong').list_buckets()
    assert error_code(e) == 'SignatureDoesNotMatch'
    assert status_of(e) == 403
    with pytest.raises(ClientError) as e:
        client(cluster, access='nobody:none').list_buckets()
    assert error_code(e) == 'InvalidAccessKeyId'


def test_sigv2(cluster, s3):
    v2 = client(cluster, signature_version='s3')
    v2.create_bucket(Bucket='sigv2')
    v2.put_object(Bucket='sigv2', Key='k', Body=b'v2 body',
                  Metadata={'m': 'v'})
    assert v2.get_object(Bucket='sigv2', Key='k')['Body'].read() == b'v2 body'
    url = v2.generate_presigned_url('get_object', Params={
        'Bucket': 'sigv2', 'Key': 'k'}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b'v2 body'
    with pytest.raises(ClientError) as e:
        client(cluster, secret='x', signature_version='s3').list_buckets()
    assert error_code(e) == 'SignatureDoesNotMatch'


def test_presigned_get_and_put(cluster, s3):
    s3.create_bucket(Bucket='presigned')
    put = s3.generate_presigned_url('put_object', Params={
        'Bucket': 'presigned', 'Key': 'up'}, ExpiresIn=60)
    # no Content-Type: the URL was signed without one (SigV2 signs it)
    r = subprocess.run(['curl', '-sf', '-X', 'PUT', '-H', 'Content-Type:',
                        '--data-binary', 'by curl', put],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r
    get = s3.generate_presigned_url('get_object', Params={
        'Bucket': 'presigned', 'Key': 'up'}, ExpiresIn=60)
    r = subprocess.run(['curl', '-sf', get], capture_output=True, timeout=60)
    assert r.stdout == b'by curl'
    tampered = get.replace('presigned/up', 'presigned/upx')
    r = subprocess.run(['curl', '-s', tampered], capture_output=True,
                       timeout=60)
    assert b'<Code>SignatureDoesNotMatch</Code>' in r.stdout
    expired = s3.generate_presigned_url('get_object', Params={
        'Bucket': 'presigned', 'Key': 'up'}, ExpiresIn=1)
    import time
    time.sleep(2.5)
    r = subprocess.run(['curl', '-s', expired], capture_output=True,
                       timeout=60)
    assert b'<Code>AccessDenied</Code>' in r.stdout
    assert b'expired' in r.stdout


# -- raw requests: what clients do not send ---------------------------------

def _sign_v4(method, path, query, headers, payload_hash, secret=SECRET,
             now=None):
    """A SigV4 Authorization header for a raw request (AWS's algorithm,
    written here for the tests)."""
    now = now or datetime.datetime.utcnow()
    amz_date = now.strftime('%Y%m%dT%H%M%SZ')
    day = amz_date[:8]
    headers = dict(headers)
    headers['x-amz-date'] = amz_date
    headers['x-amz-content-sha256'] = payload_hash
    names = sorted(k.lower() for k in headers)
    canon_headers = ''.join('%s:%s\n' % (n, ' '.join(str(
        [v for k, v in headers.items() if k.lower() == n][0]).split()))
        for n in names)
    signed = ';'.join(names)
    creq = '\n'.join([method, path, query, canon_headers, signed,
                      payload_hash])
    scope = '%s/us-east-1/s3/aws4_request' % day
    sts = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    key = h(h(h(h(('AWS4' + secret).encode(), day), 'us-east-1'), 's3'),
            'aws4_request')
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers['Authorization'] = (
        'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s'
        % (ACCESS, scope, signed, sig))
    return headers, key, amz_date, scope, sig


def _raw(cluster, method, path, headers, body=b''):
    conn = http.client.HTTPConnection(cluster.host, cluster.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), \
            r.read()
    finally:
        conn.close()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')


@pytest.mark.parametrize('sub,root,code', [
    ('acl', b'<AccessControlPolicy><Owner><ID>&lol2;</ID></Owner>'
     b'</AccessControlPolicy>', 'MalformedACLError'),
    ('lifecycle', b'<LifecycleConfiguration><Rule><ID>&lol2;</ID>'
     b'<Filter><Prefix/></Filter><Status>Enabled</Status><Expiration><Days>1'
     b'</Days></Expiration></Rule></LifecycleConfiguration>', 'MalformedXML'),
    ('cors', b'<CORSConfiguration><CORSRule><AllowedOrigin>&lol2;'
     b'</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'
     b'</CORSConfiguration>', 'MalformedXML'),
])
def test_bucket_xml_bodies_refuse_dtds(cluster, s3, sub, root, code):
    """No DTD is read in a body (no entity expansion): the document is
    refused as malformed and the bucket keeps what it had."""
    bucket = 'dtd-' + sub
    s3.create_bucket(Bucket=bucket)
    body = LAUGHS + root
    digest = base64.b64encode(hashlib.md5(body).digest()).decode()
    headers, *_ = _sign_v4('PUT', '/' + bucket, sub + '=',
                           {'Host': '%s:%d' % (cluster.host, cluster.port),
                            'Content-MD5': digest},
                           hashlib.sha256(body).hexdigest())
    st, _, out = _raw(cluster, 'PUT', '/%s?%s' % (bucket, sub), headers, body)
    assert st == 400 and b'<Code>%s</Code>' % code.encode() in out, out
    grants = s3.get_bucket_acl(Bucket=bucket)['Grants']
    assert len(grants) == 1
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert status_of(e) == 404
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert status_of(e) == 404


def test_payload_sha256_mismatch_stores_nothing(cluster, s3):
    s3.create_bucket(Bucket='rawput')
    body = b'the real body'
    host = '%s:%d' % (cluster.host, cluster.port)
    headers, *_ = _sign_v4('PUT', '/rawput/obj', '', {'host': host},
                           hashlib.sha256(b'another body').hexdigest())
    st, _, data = _raw(cluster, 'PUT', '/rawput/obj', headers, body)
    assert st == 400, data
    assert b'<Code>XAmzContentSHA256Mismatch</Code>' in data
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket='rawput', Key='obj')
    assert status_of(e) == 404
    headers, *_ = _sign_v4('PUT', '/rawput/obj', '', {'host': host},
                           hashlib.sha256(body).hexdigest())
    st, _, data = _raw(cluster, 'PUT', '/rawput/obj', headers, body)
    assert st == 200, data
    assert s3.get_object(Bucket='rawput', Key='obj')['Body'].read() == body


def _chunked_body(key, amz_date, scope, seed, data, chunk=65536,
                  tamper=False):
    out, prev = b'', seed
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b'']
    for i, p in enumerate(pieces):
        sts = '\n'.join(['AWS4-HMAC-SHA256-PAYLOAD', amz_date, scope, prev,
                         hashlib.sha256(b'').hexdigest(),
                         hashlib.sha256(p).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if tamper and i == len(pieces) - 2:
            p = b'X' + p[1:]
        out += b'%x;chunk-signature=%s\r\n%s\r\n' % (len(p), sig.encode(), p)
        prev = sig
    return out


@pytest.mark.parametrize('tamper', [False, True])
def test_streaming_chunked_upload(cluster, s3, tamper):
    try:
        s3.create_bucket(Bucket='streamed')
    except ClientError as e:
        assert e.response['Error']['Code'] == 'BucketAlreadyOwnedByYou'
    data = os.urandom(200000)
    host = '%s:%d' % (cluster.host, cluster.port)
    # the encoded length depends only on the chunk sizes
    enc_len = len(_chunked_body(b'k' * 32, 'd', 's', 'x' * 64, data))
    path = '/streamed/obj-%s' % tamper
    headers, key, amz_date, scope, seed = _sign_v4(
        'PUT', path, '',
        {'host': host, 'content-encoding': 'aws-chunked',
         'x-amz-decoded-content-length': str(len(data)),
         'content-length': str(enc_len)},
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    body = _chunked_body(key, amz_date, scope, seed, data, tamper=tamper)
    st, _, resp = _raw(cluster, 'PUT', path, headers, body)
    if tamper:
        assert st == 403, resp
        assert b'<Code>SignatureDoesNotMatch</Code>' in resp
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket='streamed', Key=path[10:])
        assert status_of(e) == 404
    else:
        assert st == 200, resp
        g = s3.get_object(Bucket='streamed', Key=path[10:])
        assert g['Body'].read() == data
        assert g.get('ContentEncoding') in (None, '')


def test_malformed_authorization(cluster):
    for auth in ['AWS4-HMAC-SHA256 Credential=x', 'AWS nocolon',
                 'AWS4-HMAC-SHA256 Credential=test:tester/20260101/'
                 'us-east-1/s3/aws4_request, SignedHeaders=host, '
                 'Signature=zz']:
        st, _, body = _raw(cluster, 'GET', '/', {
            'Authorization': auth, 'x-amz-date': '20260101T000000Z',
            'x-amz-content-sha256': hashlib.sha256(b'').hexdigest()})
        assert 400 <= st < 500, (auth, st, body)
        assert body.startswith(b'<?xml'), body
        assert b'<Code>' in body


def test_wrong_region(cluster):
    s3 = boto3.client('s3', endpoint_url=endpoint(cluster),
                      aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                      region_name='eu-west-1',
                      config=Config(s3={'addressing_style': 'path'},
                                    retries={'max_attempts': 1}))
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert error_code(e) == 'AuthorizationHeaderMalformed'


def test_clock_skew(cluster):
    host = '%s:%d' % (cluster.host, cluster.port)
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    headers, *_ = _sign_v4('GET', '/', '', {'host': host},
                           hashlib.sha256(b'').hexdigest(), now=old)
    st, _, body = _raw(cluster, 'GET', '/', headers)
    assert st == 403
    assert b'<Code>RequestTimeTooSkewed</Code>' in body


# -- one object, two APIs ---------------------------------------------------

def test_s3_and_swift_see_the_same_objects(cluster, s3):
    s3.create_bucket(Bucket='both')
    s3.put_object(Bucket='both', Key='from-s3', Body=b'written by s3',
                  Metadata={'k': 'v'})
    st, h, body = cluster.http('GET', cluster.path('both', 'from-s3'))
    assert st == 200 and body == b'written by s3'
    assert h['etag'].strip('"') == hashlib.md5(body).hexdigest()
    assert h['x-object-meta-k'] == 'v'
    st, _, _ = cluster.http('PUT', cluster.path('both', 'from-swift'),
                            {'X-Object-Meta-Color': 'red'},
                            body=b'written by swift')
    assert st == 201
    g = s3.get_object(Bucket='both', Key='from-swift')
    assert g['Body'].read() == b'written by swift'
    assert g['Metadata'] == {'color': 'red'}
    assert g['ETag'] == '"%s"' % hashlib.md5(b'written by swift').hexdigest()
    st, _, body = cluster.http('GET', cluster.path('both') + '?format=json')
    assert [o['name'] for o in json.loads(body)] == ['from-s3', 'from-swift']


def test_unsupported_is_not_implemented(s3):
    s3.create_bucket(Bucket='unsupported')
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket='unsupported',
                                 VersioningConfiguration={'Status': 'Enabled'})
    assert error_code(e) == 'NotImplemented'
    assert status_of(e) == 501
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket='unsupported')
    assert error_code(e) == 'NoSuchCORSConfiguration'


# -- the CLIs ---------------------------------------------------------------

def run_aws(cluster, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION='us-east-1',
               AWS_CONFIG_FILE='/dev/null',
               AWS_SHARED_CREDENTIALS_FILE='/dev/null')
    return subprocess.run(['/usr/bin/aws', '--endpoint-url', endpoint(cluster)]
                          + list(args), capture_output=True, env=env,
                          timeout=timeout, cwd=cluster.tmp)


def test_aws_cli(cluster, tmp_path):
    r = run_aws(cluster, 's3', 'mb', 's3://awscli')
    assert r.returncode == 0, r
    src = tmp_path / 'src'
    src.mkdir()
    for i in range(5):
        (src / ('f%d.bin' % i)).write_bytes(os.urandom(1000 * (i + 1)))
    (src / 'sub').mkdir()
    (src / 'sub' / 'deep.txt').write_bytes(b'deep')
    r = run_aws(cluster, 's3', 'sync', str(src), 's3://awscli/tree')
    assert r.returncode == 0, r
    r = run_aws(cluster, 's3', 'ls', '--recursive', 's3://awscli')
    assert r.returncode == 0, r
    listed = sorted(line.split()[-1] for line in r.stdout.decode().splitlines())
    assert listed == sorted(['tree/f%d.bin' % i for i in range(5)]
                            + ['tree/sub/deep.txt'])
    dst = tmp_path / 'dst'
    r = run_aws(cluster, 's3', 'sync', 's3://awscli/tree', str(dst))
    assert r.returncode == 0, r
    for p in src.rglob('*'):
        if p.is_file():
            assert (dst / p.relative_to(src)).read_bytes() == p.read_bytes()
    # a second sync has nothing to do
    r = run_aws(cluster, 's3', 'sync', str(src), 's3://awscli/tree')
    assert r.returncode == 0 and r.stdout == b'', r
    r = run_aws(cluster, 's3api', 'head-object', '--bucket', 'awscli',
                '--key', 'tree/sub/deep.txt')
    assert r.returncode == 0, r
    assert json.loads(r.stdout)['ContentLength'] == 4
    r = run_aws(cluster, 's3', 'rb', 's3://awscli', '--force')
    assert r.returncode == 0, r


def test_s3cmd(cluster, tmp_path):
    cfg = tmp_path / 's3cfg'
    cfg.write_text(
        '[default]\naccess_key = %s\nsecret_key = %s\n'
        'host_base = %s:%d\nhost_bucket = %s:%d\nuse_https = False\n'
        'signature_v2 = False\nbucket_location = us-east-1\n' % (ACCESS, SECRET, cluster.host,
                                   cluster.port, cluster.host, cluster.port))

    def s3cmd(*args):
        return subprocess.run(['/usr/bin/s3cmd', '-c', str(cfg)] + list(args),
                              capture_output=True, timeout=300,
                              cwd=str(tmp_path))
    r = s3cmd('mb', 's3://s3cmd-bucket')
    assert r.returncode == 0, r
    f = tmp_path / 'up.bin'
    f.write_bytes(os.urandom(300000))
    r = s3cmd('put', str(f), 's3://s3cmd-bucket/up.bin')
    assert r.returncode == 0, r
    r = s3cmd('ls', 's3://s3cmd-bucket')
    assert r.returncode == 0 and b's3://s3cmd-bucket/up.bin' in r.stdout, r
    out = tmp_path / 'down.bin'
    r = s3cmd('get', 's3://s3cmd-bucket/up.bin', str(out))
    assert r.returncode == 0, r
    assert out.read_bytes() == f.read_bytes()
    r = s3cmd('del', 's3://s3cmd-bucket/up.bin')
    assert r.returncode == 0, r
    r = s3cmd('rb', 's3://s3cmd-bucket')
    assert r.returncode == 0, r


# -- multipart uploads ------------------------------------------------------

MIB = 1024 * 1024


def test_multipart_upload_life_cycle(cluster, s3):
    s3.create_bucket(Bucket='mpu')
    up = s3.create_multipart_upload(Bucket='mpu', Key='big/obj',
                                    ContentType='application/x-mpu',
                                    Metadata={'color': 'green'})
    uid = up['UploadId']
    assert uid and up['Key'] == 'big/obj'
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b'the short tail']
    etags = []
    for i, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket='mpu', Key='big/obj', UploadId=uid,
                           PartNumber=i, Body=body)
        assert r['ETag'] == '"%s"' % hashlib.md5(body).hexdigest()
        etags.append(r['ETag'])
    listed = s3.list_parts(Bucket='mpu', Key='big/obj', UploadId=uid)
    assert [p['PartNumber'] for p in listed['Parts']] == [1, 2, 3]
    assert [p['Size'] for p in listed['Parts']] == [len(p) for p in parts]
    page = s3.list_parts(Bucket='mpu', Key='big/obj', UploadId=uid,
                         MaxParts=2)
    assert page['IsTruncated'] and page['NextPartNumberMarker'] == 2
    uploads = s3.list_multipart_uploads(Bucket='mpu')['Uploads']
    assert [(u['Key'], u['UploadId']) for u in uploads] == [('big/obj', uid)]
    done = s3.complete_multipart_upload(
        Bucket='mpu', Key='big/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': i, 'ETag': e}
                                   for i, e in enumerate(etags, 1)]})
    want = hashlib.md5(b''.join(hashlib.md5(p).digest()
                                for p in parts)).hexdigest() + '-3'
    assert done['ETag'] == '"%s"' % want
    whole = b''.join(parts)
    g = s3.get_object(Bucket='mpu', Key='big/obj')
    assert g['Body'].read() == whole
    assert g['ETag'] == '"%s"' % want
    assert g['ContentType'] == 'application/x-mpu'
    assert g['Metadata'] == {'color': 'green'}
    # ranges inside one part, across parts, to the end, from the end
    for rng, sl in [('bytes=10-20', slice(10, 21)),
                    ('bytes=%d-%d' % (5 * MIB - 5, 5 * MIB + 5),
                     slice(5 * MIB - 5, 5 * MIB + 6)),
                    ('bytes=%d-' % (10 * MIB), slice(10 * MIB, None)),
                    ('bytes=-7', slice(-7, None))]:
        r = s3.get_object(Bucket='mpu', Key='big/obj', Range=rng)
        assert r['Body'].read() == whole[sl], rng
    # one part at a time, as S3's partNumber
    r = s3.get_object(Bucket='mpu', Key='big/obj', PartNumber=2)
    assert r['Body'].read() == parts[1]
    assert r['PartsCount'] == 3
    assert r['ContentRange'] == 'bytes %d-%d/%d' % (
        5 * MIB, 10 * MIB - 1, len(whole))
    h = s3.head_object(Bucket='mpu', Key='big/obj', PartNumber=3)
    assert h['ContentLength'] == len(parts[2]) and h['PartsCount'] == 3
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='mpu', Key='big/obj', PartNumber=4)
    assert status_of(e) == 416
    s3.put_object(Bucket='mpu', Key='small', Body=b'one part')
    r = s3.get_object(Bucket='mpu', Key='small', PartNumber=1)
    assert r['Body'].read() == b'one part'
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='mpu', Key='small', PartNumber=2)
    assert status_of(e) == 416
    s3.delete_object(Bucket='mpu', Key='small')
    listing = s3.list_objects_v2(Bucket='mpu')['Contents']
    assert [(c['Key'], c['Size'], c['ETag']) for c in listing] == \
        [('big/obj', len(whole), '"%s"' % want)]
    assert s3.list_multipart_uploads(Bucket='mpu').get('Uploads') is None
    # one object to the Swift API too
    st, h, body = cluster.http('GET', cluster.path('mpu', 'big/obj'))
    assert st == 200 and body == whole
    assert h['x-static-large-object'] == 'True'
    # deleting it takes its parts along
    s3.delete_object(Bucket='mpu', Key='big/obj')
    st, _, body = cluster.http('GET', cluster.path('mpu+segments') +
                               '?format=json')
    assert json.loads(body or b'[]') == []


def test_delete_object_takes_only_multipart_parts(cluster, s3):
    """DeleteObject takes the parts of a multipart object only: a Swift API
    SLO keeps its segments, even in <bucket>+segments."""
    s3.create_bucket(Bucket='mpudel')
    whole, uid = multipart_put(s3, 'mpudel', 'big')
    segs = cluster.path('mpudel+segments')

    def parts():
        st, _, body = cluster.http('GET', segs + '?format=json')
        return sorted(o['name'] for o in json.loads(body or b'[]'))

    # a Swift SLO sharing the upload's parts, and one of its own segments
    # under its key there: neither has S3's sysmeta
    st, _, body = cluster.http('GET', cluster.path('mpudel', 'big') +
                               '?multipart-manifest=get')
    assert st == 200
    shared = [{'path': e['name'], 'etag': e['hash'],
               'size_bytes': e['bytes']} for e in json.loads(body)]
    st, _, _ = cluster.http('PUT', segs + '/own/s/1', body=b'own')
    assert st == 201
    own = [{'path': '/mpudel+segments/own/s/1',
            'etag': hashlib.md5(b'own').hexdigest(), 'size_bytes': 3}]
    for key, manifest in (('copy', shared), ('own', own)):
        st, _, body = cluster.http(
            'PUT', cluster.path('mpudel', key) + '?multipart-manifest=put',
            body=json.dumps(manifest).encode())
        assert st == 201, (st, body)
    before = parts()
    assert before == ['big/%s/1' % uid, 'big/%s/2' % uid, 'own/s/1']
    for key in ('copy', 'own'):
        s3.delete_object(Bucket='mpudel', Key=key)
    assert parts() == before
    assert s3.get_object(Bucket='mpudel', Key='big')['Body'].read() == whole
    # the multipart object itself still takes its parts
    s3.delete_object(Bucket='mpudel', Key='big')
    assert parts() == ['own/s/1']


def test_multipart_errors(s3):
    s3.create_bucket(Bucket='mpuerr')
    uid = s3.create_multipart_upload(Bucket='mpuerr', Key='k')['UploadId']
    e1 = s3.upload_part(Bucket='mpuerr', Key='k', UploadId=uid, PartNumber=1,
                        Body=b'too small')['ETag']
    e2 = s3.upload_part(Bucket='mpuerr', Key='k', UploadId=uid, PartNumber=2,
                        Body=b'last')['ETag']
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket='mpuerr', Key='k', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1},
                                       {'PartNumber': 2, 'ETag': e2}]})
    assert error_code(e) == 'EntityTooSmall'
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket='mpuerr', Key='k', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 2, 'ETag': e1}]})
    assert error_code(e) == 'InvalidPart'
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket='mpuerr', Key='k', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 2, 'ETag': e2},
                                       {'PartNumber': 1, 'ETag': e1}]})
    assert error_code(e) == 'InvalidPartOrder'
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket='mpuerr', Key='k', UploadId=uid,
                       PartNumber=10001, Body=b'x')
    assert error_code(e) == 'InvalidArgument'
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket='mpuerr', Key='k', UploadId='nosuchupload',
                       PartNumber=1, Body=b'x')
    assert error_code(e) == 'NoSuchUpload'
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket='mpuerr', Key='k', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': i, 'ETag': e1}
                                       for i in range(1, 10002)]})
    assert error_code(e) in ('InvalidPart', 'MalformedXML')
    s3.abort_multipart_upload(Bucket='mpuerr', Key='k', UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket='mpuerr', Key='k', UploadId=uid)
    assert error_code(e) == 'NoSuchUpload'
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='mpuerr', Key='k')
    assert error_code(e) == 'NoSuchKey'


def test_upload_part_copy(s3):
    s3.create_bucket(Bucket='partcopy')
    src = os.urandom(5 * MIB)
    s3.put_object(Bucket='partcopy', Key='src', Body=src)
    uid = s3.create_multipart_upload(Bucket='partcopy', Key='dst')['UploadId']
    r = s3.upload_part_copy(Bucket='partcopy', Key='dst', UploadId=uid,
                            PartNumber=1,
                            CopySource={'Bucket': 'partcopy', 'Key': 'src'})
    e1 = r['CopyPartResult']['ETag']
    assert e1 == '"%s"' % hashlib.md5(src).hexdigest()
    e2 = s3.upload_part(Bucket='partcopy', Key='dst', UploadId=uid,
                        PartNumber=2, Body=b'end')['ETag']
    s3.complete_multipart_upload(
        Bucket='partcopy', Key='dst', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1},
                                   {'PartNumber': 2, 'ETag': e2}]})
    assert s3.get_object(Bucket='partcopy',
                         Key='dst')['Body'].read() == src + b'end'
    # a copy of a multipart object is its whole content
    s3.copy_object(Bucket='partcopy', Key='flat',
                   CopySource={'Bucket': 'partcopy', 'Key': 'dst'})
    assert s3.get_object(Bucket='partcopy',
                         Key='flat')['Body'].read() == src + b'end'


def test_aws_cli_multipart_100mib(cluster, tmp_path):
    """awscli's defaults: 8 MiB parts up, 8 MiB ranged GETs down."""
    r = run_aws(cluster, 's3', 'mb', 's3://bigfiles')
    assert r.returncode == 0, r
    src = tmp_path / 'big'
    with open(src, 'wb') as f:
        for _ in range(100):
            f.write(os.urandom(MIB))
    r = run_aws(cluster, 's3', 'cp', '--only-show-errors', str(src),
                's3://bigfiles/big')
    assert r.returncode == 0, r
    r = run_aws(cluster, 's3api', 'head-object', '--bucket', 'bigfiles',
                '--key', 'big')
    head = json.loads(r.stdout)
    assert head['ContentLength'] == 100 * MIB
    assert head['ETag'].endswith('-13"')
    back = tmp_path / 'back'
    r = run_aws(cluster, 's3', 'cp', '--only-show-errors',
                's3://bigfiles/big', str(back))
    assert r.returncode == 0, r
    assert hashlib.md5(back.read_bytes()).digest() == \
        hashlib.md5(src.read_bytes()).digest()


def test_copy_source_conditions_and_range(s3):
    s3.create_bucket(Bucket='condcopy')
    body = os.urandom(6 * MIB)
    etag = s3.put_object(Bucket='condcopy', Key='src', Body=body)['ETag']
    src = {'Bucket': 'condcopy', 'Key': 'src'}
    s3.copy_object(Bucket='condcopy', Key='ok', CopySource=src,
                   CopySourceIfMatch=etag)
    for kw in ({'CopySourceIfMatch': '"0123456789abcdef0123456789abcdef"'},
               {'CopySourceIfNoneMatch': etag},
               {'CopySourceIfModifiedSince':
                datetime.datetime(2100, 1, 1)},
               {'CopySourceIfUnmodifiedSince':
                datetime.datetime(2000, 1, 1)}):
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket='condcopy', Key='no', CopySource=src, **kw)
        assert error_code(e) == 'PreconditionFailed', kw
    with pytest.raises(ClientError):
        s3.head_object(Bucket='condcopy', Key='no')
    # UploadPartCopy of ranges: two parts made of the source's two halves
    uid = s3.create_multipart_upload(Bucket='condcopy', Key='ranged')[
        'UploadId']
    half = 5 * MIB
    parts = []
    for n, rng in ((1, 'bytes=0-%d' % (half - 1)),
                   (2, 'bytes=%d-%d' % (half, len(body) - 1))):
        r = s3.upload_part_copy(Bucket='condcopy', Key='ranged',
                                UploadId=uid, PartNumber=n, CopySource=src,
                                CopySourceRange=rng)
        parts.append({'PartNumber': n, 'ETag': r['CopyPartResult']['ETag']})
    assert parts[0]['ETag'] == '"%s"' % hashlib.md5(body[:half]).hexdigest()
    s3.complete_multipart_upload(Bucket='condcopy', Key='ranged',
                                 UploadId=uid,
                                 MultipartUpload={'Parts': parts})
    assert s3.get_object(Bucket='condcopy',
                         Key='ranged')['Body'].read() == body
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket='condcopy', Key='ranged', UploadId=uid,
                            PartNumber=3, CopySource=src,
                            CopySourceRange='bytes=%d-' % (len(body) * 2))
    assert status_of(e) in (400, 404, 416)


def test_bucket_canned_acls(cluster, s3):
    s3.create_bucket(Bucket='aclbucket')
    s3.put_object(Bucket='aclbucket', Key='o', Body=b'public?')
    grants = s3.get_bucket_acl(Bucket='aclbucket')['Grants']
    assert [(g['Grantee'].get('ID'), g['Permission']) for g in grants] == \
        [(ACCESS, 'FULL_CONTROL')]
    st, _, _ = cluster.http('GET', cluster.path('aclbucket', 'o'),
                            auth=False)
    assert st == 401
    s3.put_bucket_acl(Bucket='aclbucket', ACL='public-read')
    grants = s3.get_bucket_acl(Bucket='aclbucket')['Grants']
    assert ('http://acs.amazonaws.com/groups/global/AllUsers', 'READ') in \
        [(g['Grantee'].get('URI'), g['Permission']) for g in grants]
    # anonymous reads now go through, with the Swift API's public ACL
    st, _, body = cluster.http('GET', cluster.path('aclbucket', 'o'),
                               auth=False)
    assert st == 200 and body == b'public?'
    ogrants = s3.get_object_acl(Bucket='aclbucket', Key='o')['Grants']
    assert len(ogrants) == 2
    s3.put_bucket_acl(Bucket='aclbucket', ACL='private')
    st, _, _ = cluster.http('GET', cluster.path('aclbucket', 'o'),
                            auth=False)
    assert st == 401
    with pytest.raises(ClientError) as e:
        s3.get_object_acl(Bucket='aclbucket', Key='missing')
    assert error_code(e) == 'NoSuchKey'


def test_object_acls_where_swift_can_say_them(cluster, s3):
    """An object's readers are its bucket's: an object ACL that grants the
    same readers is taken, any other is NotImplemented before anything is
    written, never silently dropped."""
    s3.create_bucket(Bucket='objacl')
    s3.put_object(Bucket='objacl', Key='o', Body=b'x')
    # private bucket: private and the owner's canned ACLs are what it has
    for acl in ('private', 'bucket-owner-full-control', 'bucket-owner-read'):
        s3.put_object_acl(Bucket='objacl', Key='o', ACL=acl)
        s3.put_object(Bucket='objacl', Key='o2', Body=b'y', ACL=acl)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket='objacl', Key='o', ACL='public-read')
    assert error_code(e) == 'NotImplemented' and status_of(e) == 501
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket='objacl', Key='new', Body=b'z',
                      ACL='public-read')
    assert error_code(e) == 'NotImplemented'
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket='objacl', Key='copy', ACL='public-read',
                       CopySource={'Bucket': 'objacl', 'Key': 'o'})
    assert error_code(e) == 'NotImplemented'
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket='objacl', Key='mpu',
                                   GrantRead='id="test2:tester2"')
    assert error_code(e) == 'NotImplemented'
    for key in ('new', 'copy'):
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket='objacl', Key=key)
        assert status_of(e) == 404
    assert s3.list_multipart_uploads(Bucket='objacl').get('Uploads') is None
    # still private to anonymous readers
    st, _, _ = cluster.http('GET', cluster.path('objacl', 'o'), auth=False)
    assert st == 401
    # a public-read bucket: public-read objects are what it gives, as a
    # policy body too; private is not
    s3.put_bucket_acl(Bucket='objacl', ACL='public-read')
    s3.put_object_acl(Bucket='objacl', Key='o', ACL='public-read')
    s3.put_object(Bucket='objacl', Key='pub', Body=b'p', ACL='public-read')
    policy = s3.get_object_acl(Bucket='objacl', Key='o')
    del policy['ResponseMetadata']
    s3.put_object_acl(Bucket='objacl', Key='o', AccessControlPolicy=policy)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket='objacl', Key='o', ACL='private')
    assert error_code(e) == 'NotImplemented'
    st, _, body = cluster.http('GET', cluster.path('objacl', 'pub'),
                               auth=False)
    assert st == 200 and body == b'p'
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket='objacl', Key='missing', ACL='public-read')
    assert error_code(e) == 'NoSuchKey'
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket='objacl', Key='o', ACL='authenticated-read')
    assert error_code(e) == 'NotImplemented'


def test_object_tagging(cluster, s3):
    s3.create_bucket(Bucket='tags')
    s3.put_object(Bucket='tags', Key='t', Body=b'tagged',
                  Metadata={'keep': 'me'}, Tagging='a=1&b=two%20words')
    got = s3.get_object_tagging(Bucket='tags', Key='t')['TagSet']
    assert sorted((t['Key'], t['Value']) for t in got) == \
        [('a', '1'), ('b', 'two words')]
    s3.put_object_tagging(Bucket='tags', Key='t', Tagging={'TagSet': [
        {'Key': 'k', 'Value': 'v'}]})
    got = s3.get_object_tagging(Bucket='tags', Key='t')['TagSet']
    assert [(t['Key'], t['Value']) for t in got] == [('k', 'v')]
    # the object and its metadata stay as they were
    g = s3.get_object(Bucket='tags', Key='t')
    assert g['Body'].read() == b'tagged' and g['Metadata'] == {'keep': 'me'}
    # tags are not shown to Swift API clients
    st, h, _ = cluster.http('HEAD', cluster.path('tags', 't'))
    assert st == 200 and not any('sysmeta' in k for k in h)
    s3.delete_object_tagging(Bucket='tags', Key='t')
    assert s3.get_object_tagging(Bucket='tags', Key='t')['TagSet'] == []
    assert s3.get_object(Bucket='tags', Key='t')['Metadata'] == \
        {'keep': 'me'}
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket='tags', Key='t', Tagging={'TagSet': [
            {'Key': 'k%d' % i, 'Value': 'v'} for i in range(11)]})
    assert status_of(e) == 400
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket='tags', Key='u', Body=b'x',
                      Tagging='k=' + 'v' * 257)
    assert error_code(e) == 'InvalidTag'
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket='tags', Key='missing')
    assert error_code(e) == 'NoSuchKey'
    # a client cannot write the proxy's transient sysmeta itself
    st, _, _ = cluster.http('PUT', cluster.path('tags', 'raw'), {
        'X-Object-Transient-Sysmeta-S3api-Tagging': 'evil=1'}, body=b'x')
    assert st == 201
    assert s3.get_object_tagging(Bucket='tags', Key='raw')['TagSet'] == []


def test_list_object_versions_unversioned(s3):
    s3.create_bucket(Bucket='versions')
    for k in ('a/1', 'a/2', 'b'):
        s3.put_object(Bucket='versions', Key=k, Body=k.encode())
    r = s3.list_object_versions(Bucket='versions')
    assert [(v['Key'], v['VersionId'], v['IsLatest'], v['Size'])
            for v in r['Versions']] == [('a/1', 'null', True, 3),
                                        ('a/2', 'null', True, 3),
                                        ('b', 'null', True, 1)]
    r = s3.list_object_versions(Bucket='versions', Delimiter='/',
                                MaxKeys=1)
    assert [p['Prefix'] for p in r['CommonPrefixes']] == ['a/']
    assert r['IsTruncated'] and r['NextKeyMarker'] == 'a/'
    r = s3.list_object_versions(Bucket='versions', KeyMarker='a/2')
    assert [v['Key'] for v in r['Versions']] == ['b']


def test_delete_large_plain_object(s3):
    """DeleteObject checks for a multipart manifest without reading the
    object: a plain object past what a subrequest may read goes too."""
    s3.create_bucket(Bucket='largeplain')
    s3.put_object(Bucket='largeplain', Key='big', Body=b'\0' * (65 * MIB))
    s3.delete_object(Bucket='largeplain', Key='big')
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket='largeplain', Key='big')
    assert status_of(e) == 404


def test_bucket_acl_grants(cluster, s3):
    """Grants to another user map onto the container's Swift ACLs: that
    user reads (and with WRITE writes) through the Swift API."""
    s3.create_bucket(Bucket='granted',
                     GrantRead='id="test2:tester2"')
    s3.put_object(Bucket='granted', Key='o', Body=b'shared')
    token2, _ = cluster.user_session('test2:tester2')
    st, _, body = cluster.http('GET', cluster.path('granted', 'o'),
                               auth=token2)
    assert st == 200 and body == b'shared'
    st, _, _ = cluster.http('PUT', cluster.path('granted', 'w'),
                            auth=token2, body=b'x')
    assert st == 403
    s3.put_bucket_acl(Bucket='granted', AccessControlPolicy={
        'Owner': {'ID': ACCESS},
        'Grants': [
            {'Grantee': {'Type': 'CanonicalUser', 'ID': ACCESS},
             'Permission': 'FULL_CONTROL'},
            {'Grantee': {'Type': 'CanonicalUser', 'ID': 'test2:tester2'},
             'Permission': 'FULL_CONTROL'}]})
    st, _, _ = cluster.http('PUT', cluster.path('granted', 'w'),
                            auth=token2, body=b'x')
    assert st == 201
    grants = s3.get_bucket_acl(Bucket='granted')['Grants']
    got = sorted((g['Grantee'].get('ID') or g['Grantee'].get('URI'),
                  g['Permission']) for g in grants)
    assert got == sorted([(ACCESS, 'FULL_CONTROL'), ('test2:tester2', 'READ'),
                          ('test2:tester2', 'WRITE')])
    # what Swift ACLs cannot say is refused, not dropped
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket='granted', GrantReadACP='id="test2:tester2"')
    assert error_code(e) == 'NotImplemented'
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket='granted', GrantRead=(
            'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'))
    assert error_code(e) == 'NotImplemented'
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket='granted', ACL='private',
                          GrantRead='id="test2:tester2"')
    assert error_code(e) == 'InvalidRequest'
    # and the ACL stays as it was
    st, _, _ = cluster.http('GET', cluster.path('granted', 'o'), auth=token2)
    assert st == 200
    s3.put_bucket_acl(Bucket='granted', ACL='private')
    st, _, _ = cluster.http('GET', cluster.path('granted', 'o'), auth=token2)
    assert st == 403


def test_bucket_acl_grants_multipart(cluster, s3):
    """A READ grant reaches a multipart object's parts (the reader's GET
    reads them with its own rights), never a write grant."""
    s3.create_bucket(Bucket='grantedmpu', GrantRead='id="test2:tester2"')
    body, uid = multipart_put(s3, 'grantedmpu', 'big')
    token2, _ = cluster.user_session('test2:tester2')
    st, _, got = cluster.http('GET', cluster.path('grantedmpu', 'big'),
                              auth=token2)
    assert st == 200 and got == body
    # a user named in a Swift ACL may list too (S3's READ lets list
    # uploads), but a WRITE grant is not the parts': they are the owner's
    s3.put_bucket_acl(Bucket='grantedmpu', GrantRead='id="test2:tester2"',
                      GrantWrite='id="test2:tester2"')
    st, _, _ = cluster.http(
        'PUT', cluster.path('grantedmpu+segments', 'big/%s/2' % uid),
        auth=token2, body=b'y')
    assert st == 403
    st, _, got = cluster.http('GET', cluster.path('grantedmpu', 'big'),
                              auth=token2)
    assert st == 200 and got == body
    s3.put_bucket_acl(Bucket='grantedmpu', ACL='private')
    st, _, _ = cluster.http('GET', cluster.path('grantedmpu', 'big'),
                            auth=token2)
    assert st == 403
    st, _, _ = cluster.http(
        'GET', cluster.path('grantedmpu+segments', 'big/%s/1' % uid),
        auth=token2)
    assert st == 403


def test_bucket_tagging_and_copied_tags(s3):
    s3.create_bucket(Bucket='btags')
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket='btags')
    assert error_code(e) == 'NoSuchTagSet'
    s3.put_bucket_tagging(Bucket='btags', Tagging={'TagSet': [
        {'Key': 'team', 'Value': 'storage'}, {'Key': 'env', 'Value': 'ci'}]})
    got = s3.get_bucket_tagging(Bucket='btags')['TagSet']
    assert sorted((t['Key'], t['Value']) for t in got) == \
        [('env', 'ci'), ('team', 'storage')]
    s3.delete_bucket_tagging(Bucket='btags')
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket='btags')
    assert error_code(e) == 'NoSuchTagSet'
    # a copy keeps the source's tags, or takes new ones with REPLACE
    s3.put_object(Bucket='btags', Key='src', Body=b's', Tagging='k=v')
    s3.copy_object(Bucket='btags', Key='same',
                   CopySource={'Bucket': 'btags', 'Key': 'src'})
    assert s3.get_object_tagging(Bucket='btags', Key='same')['TagSet'] == \
        [{'Key': 'k', 'Value': 'v'}]
    s3.copy_object(Bucket='btags', Key='new', TaggingDirective='REPLACE',
                   Tagging='n=1',
                   CopySource={'Bucket': 'btags', 'Key': 'src'})
    assert s3.get_object_tagging(Bucket='btags', Key='new')['TagSet'] == \
        [{'Key': 'n', 'Value': '1'}]


def test_lifecycle_expiration(cluster, s3):
    import time
    s3.create_bucket(Bucket='lifecycle')
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket='lifecycle')
    assert error_code(e) == 'NoSuchLifecycleConfiguration'
    s3.put_bucket_lifecycle_configuration(
        Bucket='lifecycle', LifecycleConfiguration={'Rules': [
            {'ID': 'logs', 'Filter': {'Prefix': 'logs/'},
             'Status': 'Enabled', 'Expiration': {'Days': 30}},
            {'ID': 'off', 'Filter': {'Prefix': ''}, 'Status': 'Disabled',
             'Expiration': {'Days': 1}}]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket='lifecycle')[
        'Rules']
    assert [(r['ID'], r['Filter']['Prefix'], r['Status'],
             r['Expiration']['Days']) for r in rules] == \
        [('logs', 'logs/', 'Enabled', 30), ('off', '', 'Disabled', 1)]
    s3.put_object(Bucket='lifecycle', Key='logs/a', Body=b'log')
    s3.put_object(Bucket='lifecycle', Key='data/a', Body=b'data')
    st, h, _ = cluster.http('HEAD', cluster.path('lifecycle', 'logs/a'))
    at = int(h['x-delete-at'])
    # S3's rule: creation + 30 days, up to the next midnight UTC
    now = time.time()
    assert at % 86400 == 0 and now + 30 * 86400 < at <= now + 31 * 86400
    st, h, _ = cluster.http('HEAD', cluster.path('lifecycle', 'data/a'))
    assert 'x-delete-at' not in h
    # what X-Delete-At cannot carry is refused, not stored
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(
            Bucket='lifecycle', LifecycleConfiguration={'Rules': [
                {'ID': 't', 'Filter': {'Prefix': ''}, 'Status': 'Enabled',
                 'Transitions': [{'Days': 1, 'StorageClass': 'GLACIER'}]}]})
    assert error_code(e) == 'NotImplemented'
    assert len(s3.get_bucket_lifecycle_configuration(
        Bucket='lifecycle')['Rules']) == 2
    # a date already past: objects written now expire at once
    s3.put_bucket_lifecycle_configuration(
        Bucket='lifecycle', LifecycleConfiguration={'Rules': [
            {'ID': 'gone', 'Filter': {'Prefix': 'tmp/'}, 'Status': 'Enabled',
             'Expiration': {'Date': datetime.datetime(2020, 1, 1)}}]})
    s3.put_object(Bucket='lifecycle', Key='tmp/x', Body=b'short-lived')
    time.sleep(2.2)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket='lifecycle', Key='tmp/x')
    assert error_code(e) == 'NoSuchKey'
    s3.delete_bucket_lifecycle(Bucket='lifecycle')
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket='lifecycle')
    assert error_code(e) == 'NoSuchLifecycleConfiguration'
