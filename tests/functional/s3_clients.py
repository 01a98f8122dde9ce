"""boto3 clients of the S3 tests on the cluster's users, path-style and
without retries (a test sees each answer as it is), module fixtures of
the two accounts' users (`from s3_clients import s3, s3b`), and a
request without credentials as curl or a browser's preflight sends it."""

import http.client

import pytest

boto3 = pytest.importorskip('boto3')
from botocore.config import Config  # noqa: E402


def endpoint(cluster, port=None):
    return 'http://%s:%d' % (cluster.host, port or cluster.port)


def client(cluster, access='test:tester', secret='testing', port=None,
           **config):
    cfg = Config(s3={'addressing_style': 'path'},
                 retries={'max_attempts': 1}, **config)
    return boto3.client('s3', endpoint_url=endpoint(cluster, port),
                        aws_access_key_id=access,
                        aws_secret_access_key=secret,
                        region_name='us-east-1', config=cfg)


@pytest.fixture(scope='module')
def s3(cluster):
    return client(cluster)


@pytest.fixture(scope='module')
def s3b(cluster):
    """A user of another account (AUTH_test2)."""
    return client(cluster, 'test2:tester2', 'testing2')


def raw(cluster, method, path, headers=None, body=None, port=None):
    """One request without credentials: (status, {lowercased header:
    value}, body bytes)."""
    conn = http.client.HTTPConnection(cluster.host, port or cluster.port,
                                      timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                resp.read())
    finally:
        conn.close()
