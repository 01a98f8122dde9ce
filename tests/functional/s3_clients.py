"""boto3 clients of the S3 tests on the cluster's users, path-style and
without retries (a test sees each answer as it is), and module fixtures
of the two accounts' users: `from s3_clients import s3, s3b`."""

import pytest

boto3 = pytest.importorskip('boto3')
from botocore.config import Config  # noqa: E402


def endpoint(cluster, port=None):
    return 'http://%s:%d' % (cluster.host, port or cluster.port)


def client(cluster, access='test:tester', secret='testing', port=None):
    cfg = Config(s3={'addressing_style': 'path'},
                 retries={'max_attempts': 1})
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
