"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# tests/ has no __init__.py, so pytest puts this folder on sys.path (rootdir-independent import).
from httpserver import LoopbackServer


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A loopback HTTP server (see tests/httpserver.py), stopped after the test."""
    with LoopbackServer() as server:
        yield server
