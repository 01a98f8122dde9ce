"""S3 lifecycle rules expire objects already in the bucket, as AWS does: the
container servers' lifecycle pass (storage/cont_lifecycle.c,
doc/replication.md section 9) on a one-node `kura aio`, whose config runs it
every 5 s.

Objects are written with boto3 first; then a rule with a Date in the past
(S3 accepts one, and makes every object under it due at once) covers the
prefix old/. The pass deletes them on every object replica, so they leave
the listing; a multipart object's parts go with its manifest; objects
outside the prefix, and under a Disabled rule, stay.

Only the version listed is deleted: the pass's DELETE carries the row's
timestamp plus the smallest offset. That is checked against the object
servers directly (a newer .data answers 409 and stays; the listed one goes)
and through the pass, with an object whose replicas hold a newer version
than its listing row (written to the object servers directly, without a
container update: an overwrite that raced in after the row was read).

Conditions are waited for with generous deadlines, never timed.
Run with: /usr/bin/python3 -m pytest tests/functional/test_s3_lifecycle_existing.py
"""
import datetime
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from cluster import TARGET, ring_nodes, wait_for
from cluster import cluster  # noqa: F401 (fixture)

boto3 = pytest.importorskip('boto3')
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

pytestmark = pytest.mark.skipif(
    TARGET != 'kura', reason='the lifecycle pass is kura-container-server\'s')

BUCKET = 'lcold'
PART = 5 * 1024 * 1024  # S3's smallest part but the last


@pytest.fixture(scope='module')
def s3(cluster):
    cfg = Config(s3={'addressing_style': 'path'},
                 retries={'max_attempts': 1})
    return boto3.client('s3', endpoint_url='http://%s:%d' % (cluster.host,
                                                             cluster.port),
                        aws_access_key_id='test:tester',
                        aws_secret_access_key='testing',
                        region_name='us-east-1', config=cfg)


def account(cluster):
    return cluster.account_path.rsplit('/', 1)[-1]


def nodes(cluster, *names, ring='object'):
    """(partition, [(ip, port, device)]) of the primaries."""
    return ring_nodes(os.path.join(cluster.dir, 'etc'), ring,
                      account(cluster), *names)


def direct(method, node, part, cluster, container, obj, headers=None,
           body=None):
    """One request to an object server: (status, headers, body)."""
    ip, port, dev = node
    path = '/%s/%s/%s/%s/%s' % (dev, part, account(cluster),
                                urllib.parse.quote(container, safe=''),
                                urllib.parse.quote(obj, safe='/'))
    req = urllib.request.Request('http://%s:%s%s' % (ip, port, path),
                                 data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def replica_states(cluster, container, obj):
    """Each replica's (status, X-Timestamp, body) of a GET."""
    part, devs = nodes(cluster, container, obj)
    out = []
    for node in devs:
        st, h, body = direct('GET', node, part, cluster, container, obj,
                             {'X-Backend-Storage-Policy-Index': '0'})
        out.append((st, h.get('X-Timestamp'), body))
    return out


def listed(s3, bucket, prefix=''):
    r = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o['Key'] for o in r.get('Contents', []))


def recon(cluster):
    """The bucket's first container replica's GET /recon/lifecycle/container
    (the pass's counters from container.recon; None until written)."""
    ip, port, _ = nodes(cluster, BUCKET, ring='container')[1][0]
    url = 'http://%s:%s/recon/lifecycle/container' % (ip, port)
    with urllib.request.urlopen(url, timeout=30) as resp:
        return {k: v for k, v in json.load(resp).items() if v is not None}


def swift_ts(t):
    return '%016.05f' % t


def test_offset_delete_removes_only_the_listed_version(cluster):
    """The pass's DELETE against the object servers: a tombstone at the
    listed timestamp plus one offset loses to a newer .data (409) and
    removes the listed one."""
    cont, obj = 'direct-ts', 'o'
    part, devs = nodes(cluster, cont, obj)
    node = devs[0]
    t1 = swift_ts(time.time() - 100)
    h = {'X-Timestamp': t1, 'Content-Type': 'text/plain',
         'X-Backend-Storage-Policy-Index': '0'}
    assert direct('PUT', node, part, cluster, cont, obj, h, b'v1')[0] == 201
    t2 = swift_ts(time.time() - 50)
    h['X-Timestamp'] = t2
    assert direct('PUT', node, part, cluster, cont, obj, h, b'v2')[0] == 201
    # the listing still says t1: the DELETE for it finds a newer version
    delete = {'X-Timestamp': t1 + '_0000000000000001',
              'X-Backend-Storage-Policy-Index': '0'}
    assert direct('DELETE', node, part, cluster, cont, obj, delete)[0] == 409
    st, hdrs, body = direct('GET', node, part, cluster, cont, obj,
                            {'X-Backend-Storage-Policy-Index': '0'})
    assert (st, hdrs.get('X-Timestamp'), body) == (200, t2, b'v2')
    # the DELETE for the version listed removes it
    delete['X-Timestamp'] = t2 + '_0000000000000001'
    assert direct('DELETE', node, part, cluster, cont, obj, delete)[0] == 204
    assert direct('GET', node, part, cluster, cont, obj,
                  {'X-Backend-Storage-Policy-Index': '0'})[0] == 404


def test_rule_expires_objects_already_in_the_bucket(cluster, s3):
    s3.create_bucket(Bucket=BUCKET)
    for key in ('old/a', 'old/b', 'old/sub/c', 'oldish', 'keep/x', 'new/y',
                'old/raced'):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    up = s3.create_multipart_upload(Bucket=BUCKET, Key='old/mpu')
    parts = []
    for n, data in ((1, b'p' * PART), (2, b'last')):
        r = s3.upload_part(Bucket=BUCKET, Key='old/mpu', PartNumber=n,
                           UploadId=up['UploadId'], Body=data)
        parts.append({'PartNumber': n, 'ETag': r['ETag']})
    s3.complete_multipart_upload(Bucket=BUCKET, Key='old/mpu',
                                 UploadId=up['UploadId'],
                                 MultipartUpload={'Parts': parts})
    st, _, body = cluster.http(
        'GET', cluster.path(BUCKET + '+segments') + '?format=json')
    assert st == 200
    segments = [o['name'] for o in json.loads(body)]
    assert len(segments) == 2, segments

    # old/raced: its replicas get a newer version behind the listing's
    # back (no container update), as an overwrite that raced in after
    # the pass read the row
    newer = swift_ts(time.time())
    part, devs = nodes(cluster, BUCKET, 'old/raced')
    for node in devs:
        st, _, _ = direct('PUT', node, part, cluster, BUCKET, 'old/raced',
                          {'X-Timestamp': newer,
                           'Content-Type': 'text/plain',
                           'X-Backend-Storage-Policy-Index': '0'},
                          b'newer')
        assert st == 201

    before = time.time()
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={'Rules': [
            {'ID': 'old', 'Filter': {'Prefix': 'old/'}, 'Status': 'Enabled',
             'Expiration': {'Date': datetime.datetime(2020, 1, 1)}},
            # inside old/: its rows are read once, under old/, and due
            # by the earliest of both rules
            {'ID': 'sub', 'Filter': {'Prefix': 'old/sub/'},
             'Status': 'Enabled', 'Expiration': {'Days': 30}},
            {'ID': 'off', 'Filter': {'Prefix': 'keep/'},
             'Status': 'Disabled',
             'Expiration': {'Date': datetime.datetime(2020, 1, 1)}}]})

    wait_for('old/ to leave the listing',
             lambda: listed(s3, BUCKET, 'old/') == ['old/raced'])
    # a whole pass that started after the rule, the raced object seen
    wait_for('a full lifecycle pass', lambda: recon(cluster).get(
        'container_lifecycle_since', 0) > before and recon(cluster).get(
        'container_lifecycle_raced', 0) >= 1)

    assert listed(s3, BUCKET) == ['keep/x', 'new/y', 'old/raced', 'oldish']
    for key in ('old/a', 'old/b', 'old/sub/c', 'old/mpu'):
        for st, ts, _ in replica_states(cluster, BUCKET, key):
            assert st == 404, (key, st, ts)
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=BUCKET, Key=key)
        assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 404
    # the multipart object's parts went with its manifest
    for name in segments:
        for st, ts, _ in replica_states(cluster, BUCKET + '+segments', name):
            assert st == 404, (name, st, ts)
    st, _, body = cluster.http(
        'GET', cluster.path(BUCKET + '+segments') + '?format=json')
    assert json.loads(body or b'[]') == []
    # the newer version stays on every replica
    for st, ts, body in replica_states(cluster, BUCKET, 'old/raced'):
        assert (st, ts, body) == (200, newer, b'newer')
    assert s3.get_object(Bucket=BUCKET, Key='old/raced')['Body'].read() == \
        b'newer'
    # outside the prefix, and under the Disabled rule: kept
    for key in ('oldish', 'keep/x', 'new/y'):
        assert s3.get_object(Bucket=BUCKET, Key=key)['Body'].read() == \
            key.encode()
    r = recon(cluster)
    assert set(r) == {'container_lifecycle_' + k for k in (
        'expired', 'raced', 'errors', 'containers', 'since',
        'pass_completed')}, r
    assert r['container_lifecycle_containers'] >= 1
    assert r['container_lifecycle_errors'] == 0


def test_days_rule_expires_objects_old_enough(cluster, s3):
    """A Days rule: an object created three days ago (its replicas and its
    listing row written with that X-Timestamp, straight to the object
    servers, which update the container as for a proxy's PUT) is due, one
    created now is not (due at the second midnight from now)."""
    bucket = 'lcdays'
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key='logs/new', Body=b'new')
    old = swift_ts(time.time() - 3 * 86400)
    part, devs = nodes(cluster, bucket, 'logs/old')
    cpart, cdevs = nodes(cluster, bucket, ring='container')
    for i, node in enumerate(devs):
        ip, port, dev = cdevs[i % len(cdevs)]
        st, _, _ = direct('PUT', node, part, cluster, bucket, 'logs/old',
                          {'X-Timestamp': old, 'Content-Type': 'text/plain',
                           'X-Backend-Storage-Policy-Index': '0',
                           'X-Container-Host': '%s:%s' % (ip, port),
                           'X-Container-Device': dev,
                           'X-Container-Partition': cpart},
                          b'old')
        assert st == 201
    wait_for('logs/old in the listing',
             lambda: listed(s3, bucket) == ['logs/new', 'logs/old'])
    before = time.time()
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={'Rules': [
            {'ID': 'days', 'Filter': {'Prefix': 'logs/'},
             'Status': 'Enabled', 'Expiration': {'Days': 1}}]})
    wait_for('logs/old to leave the listing',
             lambda: listed(s3, bucket) == ['logs/new'])
    for st, ts, _ in replica_states(cluster, bucket, 'logs/old'):
        assert st == 404, (st, ts)
    wait_for('a full lifecycle pass', lambda: recon(cluster).get(
        'container_lifecycle_since', 0) > before)
    assert listed(s3, bucket) == ['logs/new']
    assert s3.get_object(Bucket=bucket, Key='logs/new')['Body'].read() == \
        b'new'
