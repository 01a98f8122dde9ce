"""Fixtures of the probe tests (issue 5): real multi-node clusters on one
machine, broken and healed by their own daemons. See probe.py."""
import pytest

import probe


@pytest.fixture
def cluster(tmp_path):
    """`kura aio start --nodes 4 --devices 2` in tmp_path on free ports,
    stopped at the end whatever the test did. Skipped until kura, the
    servers and kura-proxy are built."""
    probe.require(probe.KURA, probe.KURA_RING, probe.PROXY)
    c = probe.Cluster(tmp_path, nodes=4, devices=2)
    try:
        c.start()
        yield c
    finally:
        c.stop()
