"""Object expiry on a one-node `kura aio` (own temp dir and ports): the
object servers' .expiring_objects queue and `kura-expirer --once`.

An object PUT with X-Delete-After gets a row in the queue at once; GET
answers 404 once its time passed, while the container listing still shows
it; `kura-expirer --once <aio object-server.conf>` then deletes it on every
replica (tombstones at the delete-at time) and takes it out of the listing
and the queue. A POST that changes X-Delete-At moves the row (the old time
deletes nothing); a POST without X-Delete-At takes the row away and keeps
the object.

The queue is read from the account and container servers directly, on the
replicas `kura get-nodes` names. Conditions are waited for with generous
deadlines, never timed. The object server's queue updates are also checked
on one kura-object-server (test_object_server.py's) against a container
server played here: the row's headers, an async pending when it is down,
nothing for a replication write.
Run with: /usr/bin/python3 -m pytest tests/functional/test_expirer.py
"""
import configparser
import datetime
import glob
import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest

from cluster import BUILD, KuraCluster, ring_nodes, wait_for
from test_object_server import free_port, srv, ts  # noqa: F401

EXPIRER = os.path.join(BUILD, 'replicator', 'kura-expirer')
QUEUE = '.expiring_objects'

EMPTY_ETAG = 'd41d8cd98f00b204e9800998ecf8427e'


class Aio:
    def __init__(self):
        self.c = KuraCluster()
        self.etc = os.path.join(self.c.dir, 'etc')
        self.conf = os.path.join(self.etc, 'object-server.conf')
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(self.conf)
        if not cp.has_section('object-expirer'):
            # aio's own config may not have the section yet: ours, with
            # the recon cache inside the aio dir
            with open(self.conf, 'a') as f:
                f.write('\n[object-expirer]\nrecon_cache_path = %s\n'
                        % os.path.join(self.c.dir, 'recon'))
            cp.read(self.conf)
        self.recon = os.path.join(
            cp.get('object-expirer', 'recon_cache_path',
                   fallback='/var/cache/kura'), 'object.recon')
        self.devices = cp.get('object-expirer', 'devices')
        swift = configparser.ConfigParser(interpolation=None)
        swift.read(os.path.join(self.etc, 'swift.conf'))
        self.prefix = swift.get('swift-hash', 'swift_hash_path_prefix',
                                fallback='')
        self.suffix = swift.get('swift-hash', 'swift_hash_path_suffix',
                                fallback='')

    def background_expirer(self):
        """Whether aio runs a kura-expirer of its own."""
        return any('expirer' in os.path.basename(p) for p in
                   glob.glob(os.path.join(self.c.dir, 'run', '*.pid')))

    def expire(self):
        r = subprocess.run([EXPIRER, '--once', self.conf],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    def nodes(self, ring, *names):
        """(partition, [(ip, port, device)]) of the primaries."""
        return ring_nodes(self.etc, ring, *names)

    def listing(self, ring, *names):
        """Union of the names the primaries list (JSON, one page)."""
        part, devs = self.nodes(ring, *names)
        path = '/'.join(urllib.parse.quote(n, safe='') for n in names)
        out = set()
        for ip, port, dev in devs:
            url = 'http://%s:%s/%s/%s/%s?format=json' % (ip, port, dev, part,
                                                          path)
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    body = resp.read()
            except urllib.error.HTTPError as e:
                assert e.code == 404, e
                continue
            if body:
                out.update(item['name'] for item in json.loads(body))
        return out

    def queue(self):
        """Every row of the expirer queue: {(delete_at, 'a/c/o')}. A new
        queue container shows in the account listing once its container
        server told the account (account_update_interval): wait for a row
        with queued()."""
        rows = set()
        for cont in self.listing('account', QUEUE):
            for row in self.listing('container', QUEUE, cont):
                at, path = row.split('-', 1)
                rows.add((int(at), path))
        return rows

    def tombstones(self, container, obj):
        h = hashlib.md5(('%s/%s/%s/%s%s' % (
            self.prefix, self.c.account_path.split('/')[-1], container, obj,
            self.suffix)).encode()).hexdigest()
        files = glob.glob(os.path.join(self.devices, '*', 'objects', '*',
                                       h[-3:], h, '*'))
        return sorted(os.path.basename(f) for f in files)


def queued(aio, row):
    """Waits until the queue lists 'row' (and so its container)."""
    wait_for('row %r in the queue' % (row,), lambda: row in aio.queue())


@pytest.fixture(scope='module')
def aio():
    if not os.access(EXPIRER, os.X_OK):
        pytest.skip('kura-expirer not built: ' + EXPIRER)
    a = Aio()
    try:
        yield a
    finally:
        a.c.stop()


def listed(aio, container):
    status, _, body = aio.c.http('GET', container + '?format=json')
    assert status == 200, status
    return {o['name'] for o in json.loads(body)}


def put(aio, container, obj, headers):
    status, _, _ = aio.c.http('PUT', container + '/' + obj, headers, b'hello')
    assert status == 201, status


def delete_at_of(aio, container, obj):
    status, h, _ = aio.c.http('HEAD', container + '/' + obj)
    assert status == 200, status
    return h.get('x-delete-at')


def test_expired_object_is_deleted_by_the_expirer(aio):
    assert aio.c.http('PUT', 'exp1')[0] in (201, 202)
    put(aio, 'exp1', 'o', {'X-Delete-After': '2'})
    at = int(delete_at_of(aio, 'exp1', 'o'))
    path = aio.c.account_path.split('/')[-1] + '/exp1/o'
    queued(aio, (at, path))

    wait_for('GET 404 once X-Delete-At passed',
             lambda: aio.c.http('GET', 'exp1/o')[0] == 404)
    if not aio.background_expirer():
        # the object servers refuse it, but only the expirer deletes it
        assert 'o' in listed(aio, 'exp1')
        assert all(f.endswith('.data') for f in aio.tombstones('exp1', 'o'))

    aio.expire()
    wait_for('the listing to drop the object',
             lambda: 'o' not in listed(aio, 'exp1'))
    files = aio.tombstones('exp1', 'o')
    assert files == ['%d.00000.ts' % at] * 3, files
    assert (at, path) not in aio.queue()
    recon = json.load(open(aio.recon))
    assert 'object_expiration_pass' in recon
    assert 'expired_last_pass' in recon

    # its queue container is empty now: a later pass deletes it, and the
    # account stops listing it (only this test's row was queued so far)
    conts = aio.listing('account', QUEUE)

    def emptied():
        aio.expire()
        return not conts & aio.listing('account', QUEUE)
    wait_for('the empty queue container to go', emptied)


def test_post_moves_the_queue_row(aio):
    assert aio.c.http('PUT', 'exp2')[0] in (201, 202)
    put(aio, 'exp2', 'o', {'X-Delete-After': '8'})
    old = int(delete_at_of(aio, 'exp2', 'o'))
    new = int(time.time()) + 3600
    status = aio.c.http('POST', 'exp2/o', {'X-Delete-At': str(new)})[0]
    assert status == 202, status
    path = aio.c.account_path.split('/')[-1] + '/exp2/o'
    queued(aio, (new, path))
    # the same day and object: the same queue container, listed now
    assert (old, path) not in aio.queue()

    wait_for('the old time to pass', lambda: time.time() > old + 1)
    aio.expire()
    assert aio.c.http('GET', 'exp2/o')[0] == 200
    assert 'o' in listed(aio, 'exp2')
    assert (new, path) in aio.queue()


def test_post_without_delete_at_keeps_the_object(aio):
    assert aio.c.http('PUT', 'exp3')[0] in (201, 202)
    put(aio, 'exp3', 'o', {'X-Delete-After': '3600'})
    path = aio.c.account_path.split('/')[-1] + '/exp3/o'
    queued(aio, (int(delete_at_of(aio, 'exp3', 'o')), path))
    # a time soon, in the queue container already listed (the same day)
    status = aio.c.http('POST', 'exp3/o', {'X-Delete-After': '8'})[0]
    assert status == 202, status
    old = int(delete_at_of(aio, 'exp3', 'o'))
    queued(aio, (old, path))
    # Swift has no X-Remove-Delete-At: a POST replaces the metadata, so one
    # without X-Delete-At removes it (the header is ignored)
    status = aio.c.http('POST', 'exp3/o', {'X-Remove-Delete-At': '1',
                                           'X-Object-Meta-Kept': 'yes'})[0]
    assert status == 202, status
    assert delete_at_of(aio, 'exp3', 'o') is None
    assert not [r for r in aio.queue() if r[1] == path]

    wait_for('the old time to pass', lambda: time.time() > old + 1)
    aio.expire()
    status, h, body = aio.c.http('GET', 'exp3/o')
    assert status == 200 and body == b'hello'
    assert h.get('x-object-meta-kept') == 'yes'
    assert 'o' in listed(aio, 'exp3')


def test_delete_removes_the_queue_row(aio):
    assert aio.c.http('PUT', 'exp4')[0] in (201, 202)
    put(aio, 'exp4', 'o', {'X-Delete-After': '3600'})
    at = int(delete_at_of(aio, 'exp4', 'o'))
    path = aio.c.account_path.split('/')[-1] + '/exp4/o'
    queued(aio, (at, path))
    assert aio.c.http('DELETE', 'exp4/o')[0] == 204
    assert not [r for r in aio.queue() if r[1] == path]


# -- static large objects -------------------------------------------------

PART = 5 * 1024 * 1024  # S3's smallest part but the last


@pytest.fixture(scope='module')
def s3(aio):
    boto3 = pytest.importorskip('boto3')
    from botocore.config import Config
    cfg = Config(s3={'addressing_style': 'path'},
                 retries={'max_attempts': 1})
    return boto3.client('s3', endpoint_url='http://%s:%d' % (aio.c.host,
                                                             aio.c.port),
                        aws_access_key_id='test:tester',
                        aws_secret_access_key='testing',
                        region_name='us-east-1', config=cfg)


def deleted_everywhere(aio, container, obj):
    """The object's files on its replicas, when each holds a tombstone only
    (else None)."""
    files = aio.tombstones(container, obj)
    return files if len(files) == 3 and all(
        f.endswith('.ts') for f in files) else None


def expired(aio, container, obj):
    """Waits out the object's X-Delete-At, runs an expirer pass and waits
    for the listing to drop the object (aio's own expirer may be first)."""
    wait_for('GET 404 once X-Delete-At passed',
             lambda: aio.c.http('GET', container + '/' + obj)[0] == 404)
    aio.expire()
    wait_for('the listing to drop ' + obj,
             lambda: obj not in listed(aio, container))


def mpu_upload(s3, bucket, key):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for n, data in ((1, b'p' * PART), (2, b'last')):
        r = s3.upload_part(Bucket=bucket, Key=key, PartNumber=n,
                           UploadId=up['UploadId'], Body=data)
        parts.append({'PartNumber': n, 'ETag': r['ETag']})
    s3.complete_multipart_upload(Bucket=bucket, Key=key,
                                 UploadId=up['UploadId'],
                                 MultipartUpload={'Parts': parts})


def parts_of(aio, segments, key):
    """The parts of key's uploads the segments container lists (not the
    upload markers, <key>/<upload id>)."""
    return sorted(p for p in listed(aio, segments)
                  if p.startswith(key + '/') and '/' in p[len(key) + 1:])


def test_multipart_object_goes_with_its_parts(aio, s3):
    """An S3 multipart upload completed under a lifecycle rule gets an
    X-Delete-At (a Date past: one second); the expirer deletes the object
    and then every part in <bucket>+segments, as DeleteObject does."""
    bucket = 'expmpu'
    segments = bucket + '+segments'
    past = datetime.datetime(2020, 1, 1)
    rules = {'Rules': [{'ID': 'mpu', 'Filter': {'Prefix': 'mpu/'},
                        'Status': 'Enabled', 'Expiration': {'Date': past}}]}
    s3.create_bucket(Bucket=bucket)
    for attempt in range(3):
        key = 'mpu/o%d' % attempt
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration=rules)
        mpu_upload(s3, bucket, key)
        # the container servers' lifecycle pass (every 5 s in aio) deletes
        # what a rule makes due too, parts and all: with the rule gone the
        # object is the expirer's alone
        s3.delete_bucket_lifecycle(Bucket=bucket)
        wait_for('the two parts in the segments listing',
                 lambda: len(parts_of(aio, segments, key)) == 2)
        parts = parts_of(aio, segments, key)
        expired(aio, bucket, key)
        files = deleted_everywhere(aio, bucket, key)
        assert files, aio.tombstones(bucket, key)
        # the expirer's tombstone is at the delete-at time, the pass's at
        # the row's time plus an offset: the pass came by between the
        # upload and the rule's removal, so once more
        if not any('_' in f for f in files):
            break
    else:
        pytest.fail('the lifecycle pass expired the object on every try')
    assert aio.c.http('HEAD', bucket + '/' + key)[0] == 404
    wait_for('the parts to leave the segments listing',
             lambda: not parts_of(aio, segments, key))
    for p in parts:
        assert deleted_everywhere(aio, segments, p), \
            (p, aio.tombstones(segments, p))
        assert aio.c.http('GET', segments + '/' + p)[0] == 404


def test_swift_slo_keeps_its_segments(aio):
    """A static large object made through the Swift API with X-Delete-At:
    the expirer deletes the manifest alone, as Swift's, even with its
    segments named as an S3 upload's parts (only an S3 multipart object's
    manifest has parts deleted; Swift users share segments)."""
    cont = 'expslo'
    segments = cont + '+segments'
    for c in (cont, segments):
        assert aio.c.http('PUT', c)[0] in (201, 202)
    manifest = []
    for n, data in ((1, b'a' * 1000), (2, b'b' * 10)):
        name = 'o/upload/%d' % n
        st, _, _ = aio.c.http('PUT', segments + '/' + name, None, data)
        assert st == 201, st
        manifest.append({'path': '/%s/%s' % (segments, name),
                         'etag': hashlib.md5(data).hexdigest(),
                         'size_bytes': len(data)})
    st, _, body = aio.c.http('PUT', cont + '/o?multipart-manifest=put',
                             {'X-Delete-After': '1'},
                             json.dumps(manifest).encode())
    assert st == 201, (st, body)

    expired(aio, cont, 'o')
    assert deleted_everywhere(aio, cont, 'o'), aio.tombstones(cont, 'o')
    assert sorted(listed(aio, segments)) == ['o/upload/1', 'o/upload/2']
    for n, data in ((1, b'a' * 1000), (2, b'b' * 10)):
        st, _, body = aio.c.http('GET', '%s/o/upload/%d' % (segments, n))
        assert (st, body) == (200, data)


# -- the object server's queue updates ------------------------------------

class FakeContainerServer:
    """Answers 201 to everything and keeps (method, path, headers)."""

    def __init__(self):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                seen.append((self.command, self.path, dict(self.headers)))
                self.send_response(201)
                self.send_header('Content-Length', '0')
                self.end_headers()

            do_DELETE = do_PUT

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cont():
    c = FakeContainerServer()
    yield c
    c.stop()


def queue_headers(port, at, container='1699999999'):
    return {'X-Delete-At': str(at),
            'X-Delete-At-Host': '127.0.0.1:%d' % port,
            'X-Delete-At-Device': 'sdq',
            'X-Delete-At-Partition': '7',
            'X-Delete-At-Container': container}


def obj_put(srv, path, headers):
    h = {'X-Timestamp': ts(), 'Content-Type': 'text/plain'}
    h.update(headers)
    st, _, _ = srv.request('PUT', path, b'hello', h)
    assert st == 201, st
    return h['X-Timestamp']


def test_put_queues_the_row_as_swift(srv, cont):
    at = int(time.time()) + 3600
    t = obj_put(srv, '/sda/1/AUTH_a/c/o%20x', queue_headers(cont.port, at))
    [(method, path, h)] = cont.seen
    assert method == 'PUT'
    assert path == ('/sdq/7/.expiring_objects/1699999999/%d-AUTH_a/c/o%%20x'
                    % at)
    assert h['X-Size'] == '0'
    assert h['X-Content-Type'] == 'text/plain'
    assert h['X-Etag'] == EMPTY_ETAG
    assert h['X-Timestamp'] == t
    assert h['X-Backend-Storage-Policy-Index'] == '0'

    # the same delete-at again: nothing to change
    obj_put(srv, '/sda/1/AUTH_a/c/o%20x', queue_headers(cont.port, at))
    assert len(cont.seen) == 1
    # a replica the proxy did not pick to queue it sends nothing
    obj_put(srv, '/sda/1/AUTH_a/c/n', {'X-Delete-At': str(at)})
    assert len(cont.seen) == 1


def test_replication_write_queues_nothing(srv, cont):
    at = int(time.time()) + 3600
    h = queue_headers(cont.port, at)
    h['X-Backend-Replication'] = 'True'
    obj_put(srv, '/sda/1/AUTH_a/c/r', h)
    assert cont.seen == []


def test_unreachable_queue_replica_leaves_an_async_pending(srv):
    at = int(time.time()) + 3600
    port = free_port()  # nothing listens there
    obj_put(srv, '/sda/1/AUTH_a/c/p', queue_headers(port, at))
    row = '%d-AUTH_a/c/p' % at
    h = hashlib.md5(('pre/.expiring_objects/1699999999/%s' % row
                     + 'suf').encode()).hexdigest()
    pending = srv.files('async_pending/%s/%s-*' % (h[-3:], h))
    assert len(pending) == 1, srv.files('async_pending/**')
    doc = json.load(open(pending[0]))
    assert doc['op'] == 'PUT'
    assert doc['account'] == '.expiring_objects'
    assert doc['container'] == '1699999999'
    assert doc['obj'] == row
    assert doc['hosts'] == '127.0.0.1:%d' % port
    assert doc['headers']['X-Etag'] == EMPTY_ETAG


def test_bad_queue_headers_never_fail_the_write(srv, cont):
    at = int(time.time()) + 3600
    for bad in ({'X-Delete-At-Host': 'garbage'},
                {'X-Delete-At-Host': '127.0.0.1:%d,127.0.0.1:1' % cont.port},
                {'X-Delete-At-Partition': ''},
                {'X-Delete-At-Container': 'not-a-time'},
                {'X-Delete-At-Device': '../..'}):
        h = queue_headers(cont.port, at)
        h.update(bad)
        obj_put(srv, '/sda/1/AUTH_a/c/bad', h)
        at += 1
    assert srv.request('GET', '/sda/1/AUTH_a/c/bad')[0] == 200
    # a container guessed for the one that is not a time, as Swift does
    assert any('/.expiring_objects/' in path and '/sdq/7/' in path
               for _, path, _ in cont.seen)
