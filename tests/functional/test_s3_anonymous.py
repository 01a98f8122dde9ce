"""Anonymous S3 reads of public buckets on kura-proxy: boto3 with
botocore.UNSIGNED, `aws --no-sign-request`, curl and http.client.

A request without credentials names no account; the registry of buckets
reachable without credentials (doc/s3api.md) says whose bucket a name is,
and the request runs as an anonymous Swift request there, so the
container's ACLs decide. Only reads (GetObject, HeadObject, ListObjects,
HeadBucket) of registered buckets go through; anything else is
AccessDenied."""

import html
import os
import re
import subprocess

import pytest

from cluster import TARGET, cluster  # noqa: F401 (fixture)
from s3_clients import client, endpoint, raw, s3, s3b  # noqa: F401
from s3_upload import multipart_put

boto3 = pytest.importorskip('boto3')
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.skipif(
    TARGET != 'kura', reason='the S3 API is tested on kura-proxy')

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
BODY = os.urandom(1000)


def unsigned(cluster, origin=None):
    cfg = Config(s3={'addressing_style': 'path'},
                 retries={'max_attempts': 1},
                 signature_version=botocore.UNSIGNED)
    c = boto3.client('s3', endpoint_url=endpoint(cluster),
                     region_name='us-east-1', config=cfg)
    if origin:
        c.meta.events.register(
            'before-send.s3.*', lambda request, **kw:
            request.headers.__setitem__('Origin', origin))
    return c


@pytest.fixture(scope='module')
def anon(cluster):
    return unsigned(cluster)


@pytest.fixture(scope='module')
def public(s3):
    s3.create_bucket(Bucket='anonpub', ACL='public-read')
    s3.put_object(Bucket='anonpub', Key='k', Body=BODY,
                  ContentType='application/x-test',
                  Metadata={'color': 'blue'})
    s3.put_object(Bucket='anonpub', Key='dir/a b+c', Body=b'second')
    return 'anonpub'


def error_of(excinfo):
    r = excinfo.value.response
    return r['ResponseMetadata']['HTTPStatusCode'], r['Error']['Code']


def xml_code(body):
    m = re.search(rb'<Code>([^<]*)</Code>', body)
    return html.unescape(m.group(1).decode()) if m else None


def denied(call, *args, **kw):
    with pytest.raises(ClientError) as e:
        call(*args, **kw)
    # a HEAD's answer has no body: botocore names the error by its status
    code = '403' if call.__name__.startswith('head_') else 'AccessDenied'
    assert error_of(e) == (403, code)


def same_object(a, b):
    keys = ('ETag', 'ContentType', 'ContentLength', 'Metadata',
            'LastModified', 'AcceptRanges', 'ContentRange')
    return {k: a.get(k) for k in keys} == {k: b.get(k) for k in keys}


def test_reads_equal_signed(s3, anon, public):
    g, ga = (c.get_object(Bucket=public, Key='k') for c in (s3, anon))
    assert ga['Body'].read() == g['Body'].read() == BODY
    assert same_object(g, ga)
    assert ga['Metadata'] == {'color': 'blue'}
    assert ga['ResponseMetadata']['HTTPHeaders']['x-amz-request-id']
    h, ha = (c.head_object(Bucket=public, Key='k') for c in (s3, anon))
    assert same_object(h, ha) and ha['ContentLength'] == len(BODY)
    # a range, conditionals and response-* overrides, as signed
    r = anon.get_object(Bucket=public, Key='k', Range='bytes=10-19')
    assert r['Body'].read() == BODY[10:20]
    assert r['ContentRange'] == 'bytes 10-19/%d' % len(BODY)
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=public, Key='k', IfNoneMatch=g['ETag'])
    assert error_of(e)[0] == 304
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=public, Key='k', IfMatch='"nope"')
    assert error_of(e) == (412, 'PreconditionFailed')
    r = anon.get_object(Bucket=public, Key='k',
                        ResponseContentType='text/x-over')
    assert r['ContentType'] == 'text/x-over'
    r = anon.get_object(Bucket=public, Key='k', PartNumber=1)
    assert r['Body'].read() == BODY
    # listings
    for kw in ({}, {'Prefix': 'dir/'}, {'Delimiter': '/'}, {'MaxKeys': 1}):
        signed = s3.list_objects_v2(Bucket=public, **kw)
        got = anon.list_objects_v2(Bucket=public, **kw)
        for r in (signed, got):
            del r['ResponseMetadata']
        assert got == signed, kw
    assert [o['Key'] for o in anon.list_objects(Bucket=public)['Contents']] \
        == ['dir/a b+c', 'k']
    anon.head_bucket(Bucket=public)
    # a missing key: S3's errors
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=public, Key='missing')
    assert error_of(e) == (404, 'NoSuchKey')
    with pytest.raises(ClientError) as e:
        anon.head_object(Bucket=public, Key='missing')
    assert error_of(e)[0] == 404


def test_curl_and_aws_cli(cluster, public, tmp_path):
    url = '%s/%s/k' % (endpoint(cluster), public)
    r = subprocess.run(['curl', '-sS', '-f', url], capture_output=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout == BODY, r.stderr
    st, h, body = raw(cluster, 'GET', '/%s/dir/a%%20b%%2Bc' % public)
    assert (st, body) == (200, b'second')
    assert h['etag'].startswith('"')
    st, h, body = raw(cluster, 'GET', '/%s?list-type=2' % public)
    assert st == 200 and b'<Key>dir/a b+c</Key>' in body
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_DEFAULT_REGION='us-east-1', AWS_CONFIG_FILE='/dev/null',
               AWS_SHARED_CREDENTIALS_FILE='/dev/null')
    r = subprocess.run(['/usr/bin/aws', '--endpoint-url', endpoint(cluster),
                        's3', 'cp', 's3://%s/k' % public, '-',
                        '--no-sign-request'],
                       capture_output=True, env=env, timeout=120,
                       cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout == BODY, r.stderr


def test_only_reads(cluster, s3, anon, public):
    denied(anon.put_object, Bucket=public, Key='new', Body=b'x')
    denied(anon.delete_object, Bucket=public, Key='k')
    denied(anon.delete_bucket, Bucket=public)
    denied(anon.list_buckets)
    denied(anon.get_bucket_acl, Bucket=public)
    denied(anon.get_object_acl, Bucket=public, Key='k')
    denied(anon.put_bucket_acl, Bucket=public, ACL='public-read-write')
    denied(anon.get_bucket_location, Bucket=public)
    denied(anon.list_object_versions, Bucket=public)
    # raw, without any AWS header: the same S3 error document
    for method, path in (('PUT', '/%s/new' % public),
                         ('DELETE', '/%s/k' % public),
                         ('POST', '/%s?delete' % public),
                         ('GET', '/%s?acl' % public)):
        st, h, body = raw(cluster, method, path, body=b'' if method in (
            'PUT', 'POST') else None)
        assert (st, xml_code(body)) == (403, 'AccessDenied'), (method, path)
        assert h['content-type'] == 'application/xml'
    # nothing changed
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=public, Key='new')
    assert error_of(e)[0] == 404
    assert s3.get_object(Bucket=public, Key='k')['Body'].read() == BODY
    grants = s3.get_bucket_acl(Bucket=public)['Grants']
    assert (ALL_USERS, 'WRITE') not in [
        (g['Grantee'].get('URI'), g['Permission']) for g in grants]


def test_private_and_unknown_buckets(cluster, s3, anon):
    s3.create_bucket(Bucket='anonpriv')
    s3.put_object(Bucket='anonpriv', Key='k', Body=b'secret')
    denied(anon.get_object, Bucket='anonpriv', Key='k')
    denied(anon.head_object, Bucket='anonpriv', Key='k')
    denied(anon.list_objects_v2, Bucket='anonpriv')
    denied(anon.get_object, Bucket='anonnowhere', Key='k')
    denied(anon.list_objects_v2, Bucket='anonnowhere')
    # without AWS headers, a name no public bucket has stays the Swift
    # API's path (Swift's own answer to a path outside /v1)
    st, h, body = raw(cluster, 'GET', '/anonpriv/k')
    assert st == 400 and b'secret' not in body


def test_acl_changes(cluster, s3, anon):
    s3.create_bucket(Bucket='anonflip')
    s3.put_object(Bucket='anonflip', Key='k', Body=b'flip')
    denied(anon.get_object, Bucket='anonflip', Key='k')
    s3.put_bucket_acl(Bucket='anonflip', ACL='public-read')
    assert anon.get_object(Bucket='anonflip', Key='k')['Body'].read() == \
        b'flip'
    s3.put_bucket_acl(Bucket='anonflip', ACL='private')
    denied(anon.get_object, Bucket='anonflip', Key='k')
    denied(anon.list_objects_v2, Bucket='anonflip')
    # an AllUsers READ grant is public read too
    s3.put_bucket_acl(Bucket='anonflip', GrantRead='uri="%s"' % ALL_USERS)
    assert anon.get_object(Bucket='anonflip', Key='k')['Body'].read() == \
        b'flip'
    # the container's Swift ACLs decide: objects without listings
    st, _, _ = cluster.http('POST', cluster.path('anonflip'),
                            {'X-Container-Read': '.r:*'})
    assert st == 204
    assert anon.get_object(Bucket='anonflip', Key='k')['Body'].read() == \
        b'flip'
    denied(anon.list_objects_v2, Bucket='anonflip')
    denied(anon.head_bucket, Bucket='anonflip')
    # DeleteBucket takes the registration along
    s3.delete_object(Bucket='anonflip', Key='k')
    s3.delete_bucket(Bucket='anonflip')
    denied(anon.get_object, Bucket='anonflip', Key='k')
    denied(anon.head_bucket, Bucket='anonflip')


def test_cors_with_public_read(cluster, s3):
    origin = 'https://app.example'
    s3.create_bucket(Bucket='anoncors', ACL='public-read')
    s3.put_object(Bucket='anoncors', Key='k', Body=b'c')
    s3.put_bucket_cors(Bucket='anoncors', CORSConfiguration={'CORSRules': [
        {'AllowedOrigins': [origin], 'AllowedMethods': ['GET']}]})
    app = unsigned(cluster, origin)
    r = app.get_object(Bucket='anoncors', Key='k')
    h = r['ResponseMetadata']['HTTPHeaders']
    assert h['access-control-allow-origin'] == origin
    # without rules the bucket stays public: still registered
    s3.delete_bucket_cors(Bucket='anoncors')
    r = app.get_object(Bucket='anoncors', Key='k')
    assert 'access-control-allow-origin' not in \
        r['ResponseMetadata']['HTTPHeaders']
    # rules again, then private: preflights still find the bucket
    s3.put_bucket_cors(Bucket='anoncors', CORSConfiguration={'CORSRules': [
        {'AllowedOrigins': [origin], 'AllowedMethods': ['GET']}]})
    s3.put_bucket_acl(Bucket='anoncors', ACL='private')
    denied(app.get_object, Bucket='anoncors', Key='k')
    st, _, _ = raw(cluster, 'OPTIONS', '/anoncors/k', {
        'Origin': origin, 'Access-Control-Request-Method': 'GET'})
    assert st == 200
    # neither: the name is free
    s3.delete_bucket_cors(Bucket='anoncors')
    st, _, body = raw(cluster, 'OPTIONS', '/anoncors/k', {
        'Origin': origin, 'Access-Control-Request-Method': 'GET'})
    assert st == 403


def test_names_unique_across_accounts(s3, s3b, anon, public):
    # another account's public CreateBucket of the name: 409, nothing made
    with pytest.raises(ClientError) as e:
        s3b.create_bucket(Bucket=public, ACL='public-read')
    assert error_of(e) == (409, 'BucketAlreadyExists')
    with pytest.raises(ClientError) as e:
        s3b.head_bucket(Bucket=public)
    assert error_of(e)[0] == 404
    # a private bucket of the name is its own; making it public is 409 and
    # leaves its ACL as it was
    s3b.create_bucket(Bucket=public)
    s3b.put_object(Bucket=public, Key='k', Body=b'theirs')
    with pytest.raises(ClientError) as e:
        s3b.put_bucket_acl(Bucket=public, ACL='public-read')
    assert error_of(e) == (409, 'BucketAlreadyExists')
    assert [g['Grantee'].get('URI') for g in
            s3b.get_bucket_acl(Bucket=public)['Grants']] == [None]
    assert anon.get_object(Bucket=public, Key='k')['Body'].read() == BODY
    # once the first account's bucket is private the name is free
    s3.put_bucket_acl(Bucket=public, ACL='private')
    s3b.put_bucket_acl(Bucket=public, ACL='public-read')
    assert anon.get_object(Bucket=public, Key='k')['Body'].read() == \
        b'theirs'
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=public, ACL='public-read')
    assert error_of(e) == (409, 'BucketAlreadyExists')
    s3b.delete_object(Bucket=public, Key='k')
    s3b.delete_bucket(Bucket=public)
    s3.put_bucket_acl(Bucket=public, ACL='public-read')
    assert anon.get_object(Bucket=public, Key='k')['Body'].read() == BODY


def test_multipart_objects(cluster, s3, anon):
    # the parts' container takes the bucket's readers at the upload...
    s3.create_bucket(Bucket='anonmpu', ACL='public-read')
    body, uid = multipart_put(s3, 'anonmpu', 'big')
    assert anon.get_object(Bucket='anonmpu', Key='big')['Body'].read() == body
    part = cluster.path('anonmpu+segments', 'big/%s/2' % uid)
    st, _, got = raw(cluster, 'GET', part)
    assert (st, got) == (200, b'z')
    # ...without listings: upload ids stay secret
    st, _, got = raw(cluster, 'GET', cluster.path('anonmpu+segments'))
    assert st in (401, 403) and uid.encode() not in got
    # and follows its ACL changes
    s3.put_bucket_acl(Bucket='anonmpu', ACL='private')
    denied(anon.get_object, Bucket='anonmpu', Key='big')
    st, _, got = raw(cluster, 'GET', part)
    assert st in (401, 403) and got != b'z'
    s3.put_bucket_acl(Bucket='anonmpu', ACL='public-read')
    assert anon.get_object(Bucket='anonmpu', Key='big')['Body'].read() == body
    s3.put_bucket_acl(Bucket='anonmpu', ACL='private')
    denied(anon.get_object, Bucket='anonmpu', Key='big')
