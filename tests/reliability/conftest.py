"""Fixtures for the load and fault tests: a real deployment on this session's database.

The database follows the suite: SQLite by default, a fresh PostgreSQL database of its own
(`CREATE DATABASE tipoff_load_<hex>`, dropped afterwards) when TIPOFF_TEST_DATABASE_URL is set, so
the CI's two runs cover both without running either twice.
"""
from __future__ import annotations

import pytest

from tests.conftest import PG_URL
from tests.reliability import deployment as shape


@pytest.fixture
def database_url():
    """None for SQLite in the data dir; otherwise a PostgreSQL database made for this test alone."""
    if not PG_URL:
        yield None
        return
    url = shape.create_pg_database(PG_URL)
    yield url
    shape.drop_pg_database(url)


@pytest.fixture
def redis_store():
    """This suite's Redis database (number 3), emptied before and after."""
    if not shape.redis_available():
        pytest.fail(f"Redis is not answering at {shape.REDIS_URL} (.ci/run starts it: redis-server --daemonize yes …)")
    shape.flush_redis()
    yield shape.REDIS_URL
    shape.flush_redis()


@pytest.fixture
def deployment(tmp_path, database_url, redis_store):
    """An initialised data dir and database in production's shape; servers are started by the test."""
    site = shape.Deployment(tmp_path, database_url)
    site.initialise()
    yield site
    site.stop()
