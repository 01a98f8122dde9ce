"""Guards shared by the functional tests."""

import sys

import pytest


@pytest.fixture(autouse=True)
def swift_stays_out_of_process():
    """Importing swift.common.utils swaps logging's locks for eventlet's
    (swift_oracle.py explains the hang that follows): Swift runs in child
    processes only, and a test that imports it here fails by name."""
    yield
    assert 'swift.common.utils' not in sys.modules, \
        'this test imported Swift into the pytest process'
