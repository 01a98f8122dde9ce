"""Static large objects written and deleted through the Swift API
(proxy/slo_put.c, slo_delete.c) and read back (slo.c), as Swift 2.30's SLO
middleware serves them: the real `swift` CLI (upload --use-slo, download,
stat, delete), boto3 for a multipart upload deleted through the Swift API,
and raw HTTP for manifests, their errors and their forms.

Run: KURA_BUILD=build-... /usr/bin/python3 -m pytest -q -p no:cacheprovider \
         tests/functional/test_slo.py
"""
import base64
import hashlib
import json
import os

import pytest

from cluster import TARGET, cluster  # noqa: F401 (fixture)

MiB = 1024 * 1024


def md5(b):
    return hashlib.md5(b).hexdigest()


def req(c, method, path, body=None, headers=None, query=''):
    p = c.path(*path) if isinstance(path, tuple) else path
    return c.http(method, p + query, headers, body)


def put_container(c, name):
    st, h, b = req(c, 'PUT', (name,))
    assert st in (201, 202), (st, b)


def put_obj(c, cont, obj, data, headers=None):
    st, h, b = req(c, 'PUT', (cont, obj), data, headers)
    assert st == 201, (st, b)
    return h['etag'].strip('"')


def put_manifest(c, cont, obj, manifest, headers=None):
    body = manifest if isinstance(manifest, bytes) else \
        json.dumps(manifest).encode()
    return req(c, 'PUT', (cont, obj), body, headers,
               '?multipart-manifest=put')


def get(c, cont, obj, headers=None, query=''):
    return req(c, 'GET', (cont, obj), None, headers, query)


def listing(c, cont, **params):
    q = '?format=json' + ''.join('&%s=%s' % kv for kv in params.items())
    st, h, b = req(c, 'GET', (cont,), query=q)
    assert st in (200, 204), (st, b)
    return json.loads(b) if b else []


def slo_etag_of(row):
    """The SLO etag a container row carries: Swift's SLO middleware moves
    the "slo_etag" parameter of its hash into a field of its own."""
    if 'slo_etag' in row:
        return row['slo_etag'].strip('"')
    for param in row['hash'].split(';')[1:]:
        k, _, v = param.strip().partition('=')
        if k == 'slo_etag':
            return v
    return None


def check_swift(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout.decode()


# -- the swift CLI ----------------------------------------------------------

def test_swift_upload_use_slo_download_stat_delete(cluster, tmp_path):
    c = cluster
    data = os.urandom(3 * MiB + 12345)
    src = tmp_path / 'big.bin'
    src.write_bytes(data)
    check_swift(c.swift('upload', '--use-slo', '-S', str(MiB), 'slocli',
                        'big.bin', cwd=str(tmp_path)))

    # the manifest: the object's size and Swift's SLO etag, the MD5 of
    # the segments' MD5s
    parts = [data[i:i + MiB] for i in range(0, len(data), MiB)]
    want_etag = md5(''.join(md5(p) for p in parts).encode())
    st, h, b = req(c, 'HEAD', ('slocli', 'big.bin'))
    assert st == 200, (st, h)
    assert h['x-static-large-object'] == 'True'
    assert h['content-length'] == str(len(data))
    assert h['etag'] == '"%s"' % want_etag
    out = check_swift(c.swift('stat', 'slocli', 'big.bin'))
    assert 'Content Length: %d' % len(data) in out, out
    assert want_etag in out, out
    assert 'X-Static-Large-Object: True' in out, out

    # the listing shows the object's size and SLO etag, not the manifest's
    row, = [r for r in listing(c, 'slocli') if r['name'] == 'big.bin']
    assert row['bytes'] == len(data), row
    assert slo_etag_of(row) == want_etag, row
    segs = listing(c, 'slocli_segments')
    assert len(segs) == 4 and all(r['name'].startswith('big.bin/slo/')
                                  for r in segs), segs

    # download: byte for byte, its etag checked by swiftclient
    out_dir = tmp_path / 'dl'
    out_dir.mkdir()
    check_swift(c.swift('download', 'slocli', 'big.bin', '-o',
                        str(out_dir / 'back.bin')))
    assert (out_dir / 'back.bin').read_bytes() == data

    # the manifest as stored, Swift's form
    st, h, b = get(c, 'slocli', 'big.bin', query='?multipart-manifest=get')
    assert st == 200
    assert h['content-type'] == 'application/json; charset=utf-8'
    stored = json.loads(b)
    assert [r['bytes'] for r in stored] == [len(p) for p in parts]
    assert [r['hash'] for r in stored] == [md5(p) for p in parts]
    assert [list(r) for r in stored] == [
        ['name', 'bytes', 'hash', 'content_type', 'last_modified']] * 4
    assert h['etag'] == md5(b)

    # an upload over it: swiftclient reads the old manifest
    # (?multipart-manifest=get) and deletes the segments it no longer uses
    data = os.urandom(2 * MiB + 1)
    src.write_bytes(data)
    os.utime(src, (1000000000, 1000000000))
    check_swift(c.swift('upload', '--use-slo', '-S', str(MiB), 'slocli',
                        'big.bin', cwd=str(tmp_path)))
    check_swift(c.swift('download', 'slocli', 'big.bin', '-o',
                        str(out_dir / 'back.bin')))
    assert (out_dir / 'back.bin').read_bytes() == data
    assert len(listing(c, 'slocli_segments')) == 3

    # swift delete takes the segments along (?multipart-manifest=delete)
    check_swift(c.swift('delete', 'slocli', 'big.bin'))
    assert req(c, 'HEAD', ('slocli', 'big.bin'))[0] == 404
    assert listing(c, 'slocli_segments') == []


def test_s3_multipart_object_deleted_through_swift(cluster):
    if TARGET != 'kura':
        pytest.skip('the S3 API is tested on kura-proxy')
    boto3 = pytest.importorskip('boto3')
    from botocore.config import Config
    c = cluster
    s3 = boto3.client(
        's3', endpoint_url='http://%s:%d' % (c.host, c.port),
        aws_access_key_id='test:tester', aws_secret_access_key='testing',
        region_name='us-east-1',
        config=Config(s3={'addressing_style': 'path'},
                      retries={'max_attempts': 1}))
    s3.create_bucket(Bucket='slos3')
    up = s3.create_multipart_upload(Bucket='slos3', Key='mp/obj')
    uid = up['UploadId']
    p1, p2 = os.urandom(5 * MiB), os.urandom(1000)
    e1 = s3.upload_part(Bucket='slos3', Key='mp/obj', UploadId=uid,
                        PartNumber=1, Body=p1)['ETag']
    e2 = s3.upload_part(Bucket='slos3', Key='mp/obj', UploadId=uid,
                        PartNumber=2, Body=p2)['ETag']
    s3.complete_multipart_upload(
        Bucket='slos3', Key='mp/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1},
                                   {'PartNumber': 2, 'ETag': e2}]})
    assert len(listing(c, 'slos3+segments')) == 2
    out = check_swift(c.swift('delete', 'slos3', 'mp/obj'))
    assert 'mp/obj' in out, out
    assert req(c, 'HEAD', ('slos3', 'mp/obj'))[0] == 404
    assert listing(c, 'slos3+segments') == []


# -- manifests over raw HTTP -------------------------------------------------

@pytest.fixture(scope='module')
def segs(cluster):
    """Three segments in container 'segs': (name, data, etag)."""
    put_container(cluster, 'segs')
    put_container(cluster, 'man')
    out = []
    for i, n in enumerate((1000, 2000, 3000)):
        data = bytes([65 + i]) * n
        out.append(('s%d' % i, data, put_obj(cluster, 'segs', 's%d' % i,
                                             data)))
    return out


def entry(seg, **kw):
    name, data, etag = seg
    d = {'path': '/segs/' + name, 'etag': etag, 'size_bytes': len(data)}
    d.update(kw)
    return d


def test_put_manifest_stores_swift_form(cluster, segs):
    c = cluster
    st, h, b = put_manifest(c, 'man', 'm1.txt', [entry(s) for s in segs])
    assert st == 201, (st, b)
    want = md5(''.join(s[2] for s in segs).encode())
    assert h['etag'] == '"%s"' % want
    assert 'last-modified' in h
    st, h, b = get(c, 'man', 'm1.txt')
    assert st == 200 and b == b''.join(s[1] for s in segs)
    assert h['etag'] == '"%s"' % want
    assert h['content-type'] == 'text/plain'  # guessed from the name
    # optional etag and size_bytes; a Content-Type of the client's, and
    # an Etag header that is the SLO etag
    st, h, b = put_manifest(
        c, 'man', 'm2', [{'path': '/segs/s0'}, {'path': 'segs/s1',
                                                 'etag': None}],
        {'Content-Type': 'image/png', 'Etag': md5((segs[0][2] + segs[1][2])
                                                  .encode()),
         'X-Object-Meta-Color': 'blue'})
    assert st == 201, (st, b)
    st, h, b = req(c, 'HEAD', ('man', 'm2'))
    assert h['content-type'] == 'image/png'
    assert h['x-object-meta-color'] == 'blue'
    assert h['content-length'] == '3000'
    row, = [r for r in listing(c, 'man') if r['name'] == 'm2']
    assert row['bytes'] == 3000 and row['content_type'] == 'image/png'


def test_bad_manifests_write_nothing(cluster, segs):
    c = cluster
    ok = entry(segs[0])

    def refused(manifest, status, body=None, headers=None):
        st, h, b = put_manifest(c, 'man', 'bad', manifest, headers)
        assert st == status, (st, b)
        if body is not None:
            assert b == body, b
        assert req(c, 'HEAD', ('man', 'bad'))[0] == 404
        return h, b

    refused(b'{"not": json', 400, b'Manifest must be valid JSON.\n')
    refused({'path': '/segs/s0'}, 400, b'Manifest must be a list.\n')
    # (Swift 2.30 answers 500 to an entry with neither "path" nor "data":
    # a Python 3 bug in its message; kura-proxy says "Index N: expected
    # keys to include one of 'data' or 'path'")
    h, b = refused([ok, 5, {'path': 'nocontainer'},
                    dict(ok, extra=1), dict(ok, size_bytes=0),
                    dict(ok, range='5-2'), dict(ok, range='1-2,4-5'),
                    {'data': 'not base64!'}, dict(ok, range='9999-')],
                   400)
    assert h['content-type'] == 'text/plain'
    assert b.decode().splitlines() == [
        'Index 1: not a JSON object',
        'Index 2: path does not refer to an object. Path must be of the '
        'form /container/object.',
        'Index 3: extraneous keys "extra"',
        'Index 4: too small; each segment must be at least 1 byte.',
        'Index 5: invalid range',
        'Index 6: multiple ranges (only one allowed)',
        'Index 7: data must be valid base64',
        'Index 8: unsatisfiable range']
    refused([ok] * 1001, 413,
            b'Number of object-backed segments must be <= 1000')
    # the segments' HEADs: what is missing or differs, per segment
    h, b = refused([ok, {'path': '/segs/missing'},
                    dict(entry(segs[1]), etag='0' * 32),
                    dict(entry(segs[2]), size_bytes=1)], 400)
    assert h['content-type'] == 'text/plain'
    # (Swift HEADs two at a time: its lines come in the order answered)
    lines = b.decode().splitlines()
    assert lines[0] == 'Errors:'
    assert sorted(lines[1:]) == ['/segs/missing, 404 Not Found',
                                 '/segs/s1, Etag Mismatch',
                                 '/segs/s2, Size Mismatch'], b
    h, b = refused([{'path': '/segs/missing'}], 400,
                   headers={'Accept': 'application/json'})
    assert h['content-type'] == 'application/json'
    assert json.loads(b) == {'Errors': [['/segs/missing', '404 Not Found']]}
    # a client Etag that is not the SLO etag
    refused([ok], 422, headers={'Etag': '"%s"' % ('f' * 32)})
    # the marker is the proxy's to set
    st, h, b = req(c, 'PUT', ('man', 'bad'), b'[]',
                   {'X-Static-Large-Object': 'True'})
    assert st == 400 and b.startswith(b'X-Static-Large-Object is a reserved')
    assert req(c, 'HEAD', ('man', 'bad'))[0] == 404


def test_nested_slo_read_and_deleted(cluster, segs):
    c = cluster
    put_container(c, 'nest')
    datas = [os.urandom(n) for n in (700, 800, 900)]
    etags = [put_obj(c, 'nest', 'p%d' % i, d) for i, d in enumerate(datas)]
    st, h, b = put_manifest(c, 'nest', 'sub', [
        {'path': '/nest/p0'}, {'path': '/nest/p1'}])
    assert st == 201, b
    sub_etag = h['etag'].strip('"')
    assert sub_etag == md5((etags[0] + etags[1]).encode())
    st, h, b = put_manifest(c, 'nest', 'top', [
        {'path': '/nest/sub', 'etag': sub_etag, 'size_bytes': 1500},
        {'path': '/nest/p2', 'range': '100-'}])
    assert st == 201, b
    st, h, b = get(c, 'nest', 'top', query='?multipart-manifest=get')
    top = json.loads(b)
    assert top[0]['sub_slo'] is True and top[0]['bytes'] == 1500
    assert top[1]['range'] == '100-899'
    whole = datas[0] + datas[1] + datas[2][100:]
    st, h, b = get(c, 'nest', 'top')
    assert st == 200 and b == whole
    assert h['etag'] == '"%s"' % md5(
        ('%s%s:100-899;' % (sub_etag, etags[2])).encode())
    st, h, b = get(c, 'nest', 'top', {'Range': 'bytes=650-1550'})
    assert st == 206 and b == whole[650:1551]

    # a loop of sub-SLOs ends at Swift's depth of 10: 409
    st, h, b = put_manifest(c, 'nest', 'loop1', [{'path': '/nest/p0'}])
    assert st == 201, b
    st, h, b = put_manifest(c, 'nest', 'loop2', [{'path': '/nest/loop1'}])
    assert st == 201, b
    st, h, b = put_manifest(c, 'nest', 'loop1', [{'path': '/nest/loop2'}])
    assert st == 201, b
    assert get(c, 'nest', 'loop1')[0] == 409
    for name in ('loop1', 'loop2'):
        assert req(c, 'DELETE', ('nest', name))[0] == 204

    # delete: the sub-SLO's segments, the sub-SLO, p2, then the manifest
    st, h, b = req(c, 'DELETE', ('nest', 'top'),
                   query='?multipart-manifest=delete')
    assert st == 200, b
    assert h['content-type'] == 'text/plain'
    assert b == (b'Number Deleted: 5\nNumber Not Found: 0\n'
                 b'Response Body: \nResponse Status: 200 OK\nErrors:\n')
    assert [r['name'] for r in listing(c, 'nest')] == []


def test_ranges_and_inline_data(cluster, segs):
    c = cluster
    inline = b'-inline data-'
    st, h, b = put_manifest(c, 'man', 'ranged', [
        entry(segs[2], range='-10'),
        {'data': base64.b64encode(inline).decode()},
        entry(segs[1], range='10-19'),
        entry(segs[0], range='0-')])
    assert st == 201, b
    want = segs[2][1][-10:] + inline + segs[1][1][10:20] + segs[0][1]
    st, h, b = get(c, 'man', 'ranged')
    assert st == 200 and b == want
    assert h['content-length'] == str(len(want))
    assert h['etag'] == '"%s"' % md5(
        ('%s:2990-2999;%s%s:10-19;%s' % (segs[2][2], md5(inline), segs[1][2],
                                         segs[0][2])).encode())
    st, h, b = get(c, 'man', 'ranged', {'Range': 'bytes=5-30'})
    assert st == 206 and b == want[5:31]
    st, h, b = get(c, 'man', 'ranged', query='?multipart-manifest=get')
    stored = json.loads(b)
    assert stored[1] == {'data': base64.b64encode(inline).decode()}
    assert 'range' not in stored[3]  # the whole object: no range kept


def test_raw_manifest_round_trip_and_copy(cluster, segs):
    c = cluster
    st, h, b = put_manifest(c, 'man', 'orig.txt', [
        entry(segs[0]), entry(segs[1], range='5-1004')])
    assert st == 201, b
    slo_etag = h['etag']
    st, h, raw = get(c, 'man', 'orig.txt',
                     query='?multipart-manifest=get&format=raw')
    assert st == 200
    assert h['etag'] == md5(raw)
    assert json.loads(raw) == [
        {'etag': segs[0][2], 'path': '/segs/s0', 'size_bytes': 1000},
        {'etag': segs[1][2], 'path': '/segs/s1', 'range': '5-1004',
         'size_bytes': 2000}]
    assert raw.startswith(b'[{"etag": "')  # keys sorted, as Swift
    assert h['content-type'] == 'text/plain'  # no swift_bytes
    if TARGET == 'kura':  # (Swift 2.30 answers 500)
        st, h, b = req(c, 'HEAD', ('man', 'orig.txt'),
                       query='?multipart-manifest=get&format=raw')
        assert st == 200 and h['content-length'] == str(len(raw))
        assert h['etag'] == md5(raw) and h['content-type'] == 'text/plain'
    st, h, b = put_manifest(c, 'man', 'again', raw)
    assert st == 201 and h['etag'] == slo_etag, b
    assert get(c, 'man', 'again')[2] == get(c, 'man', 'orig.txt')[2]

    # a copy of the manifest itself: a new SLO of the same segments
    st, h, b = req(c, 'PUT', ('man', 'copied'), b'',
                   {'X-Copy-From': 'man/orig.txt'},
                   '?multipart-manifest=get')
    assert st == 201, b
    assert h['etag'] == slo_etag
    st, h, b = req(c, 'HEAD', ('man', 'copied'))
    assert h['x-static-large-object'] == 'True' and h['etag'] == slo_etag
    assert req(c, 'DELETE', ('man', 'orig.txt'))[0] == 204
    assert get(c, 'man', 'copied')[2] == segs[0][1] + segs[1][1][5:1005]


def test_delete_errors(cluster, segs):
    c = cluster
    put_obj(c, 'man', 'plain', b'not a manifest')
    st, h, b = req(c, 'DELETE', ('man', 'plain'),
                   query='?multipart-manifest=delete')
    assert st == 200
    assert b == (b'Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \n'
                 b'Response Status: 400 Bad Request\nErrors:\n'
                 b'/man/plain, Not an SLO manifest\n')
    assert get(c, 'man', 'plain')[2] == b'not a manifest'
    # a missing manifest, answered in JSON
    st, h, b = req(c, 'DELETE', ('man', 'nothing'),
                   headers={'Accept': 'application/json'},
                   query='?multipart-manifest=delete')
    assert st == 200 and h['content-type'] == 'application/json'
    assert json.loads(b) == {
        'Response Status': '200 OK', 'Response Body': '',
        'Number Deleted': 0, 'Number Not Found': 1, 'Errors': []}
    # a segment gone already counts as not found
    put_obj(c, 'segs', 'gone', b'x' * 10)
    st, h, b = put_manifest(c, 'man', 'half', [{'path': '/segs/gone'},
                                               entry(segs[0])])
    assert st == 201
    assert req(c, 'DELETE', ('segs', 'gone'))[0] == 204
    st, h, b = req(c, 'DELETE', ('man', 'half'),
                   query='?multipart-manifest=delete')
    assert b.startswith(b'Number Deleted: 2\nNumber Not Found: 1\n'), b


def test_rights_are_the_clients(cluster, segs):
    """Each segment is HEADed and deleted with the client's rights: a user
    without access to the segments' container gets their 403s."""
    c = cluster
    token, _ = c.user_session('test:tester3')  # no .admin, no ACL
    st, h, b = c.http('PUT', c.path('man', 'noaccess') +
                      '?multipart-manifest=put', None,
                      json.dumps([entry(segs[1])]).encode(), auth=token)
    assert st == 400, (st, b)
    assert b == b'Errors:\n/segs/s1, 403 Forbidden\n'
    st, h, b = put_manifest(c, 'man', 'theirs', [entry(segs[1])])
    assert st == 201, b
    st, h, b = c.http('DELETE', c.path('man', 'theirs') +
                      '?multipart-manifest=delete', auth=token)
    assert st == 200
    assert b == (b'Number Deleted: 0\nNumber Not Found: 0\n'
                 b'Response Body: \nResponse Status: 400 Bad Request\n'
                 b'Errors:\n/man/theirs, Unable to load SLO manifest or '
                 b'segment.\n')
    assert req(c, 'HEAD', ('man', 'theirs'))[0] == 200
    assert req(c, 'HEAD', ('segs', 's1'))[0] == 200
