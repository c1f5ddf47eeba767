"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import needs
import pytest

# tests/ has no __init__.py, so pytest puts this folder on sys.path (rootdir-independent import).
from httpserver import LoopbackServer
from pgcluster import PostgresCluster


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A loopback HTTP server (see tests/httpserver.py), stopped after the test."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL server for the whole session (tests/pgcluster.py), started on first use."""
    needs.postgres_server("the state store")
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty state store: an SQLite file, then a fresh database on PostgreSQL.

    One fixture, two stores: a test that takes it runs once on each.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = cluster.database()
    try:
        yield url
    finally:
        cluster.drop(url)
