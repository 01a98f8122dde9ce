"""Shared fixtures of the interop tests."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def kura_build():
    """The CMake build directory under test: $KURA_BUILD, else <repo>/build."""
    return os.environ.get("KURA_BUILD") or os.path.join(REPO, "build")
