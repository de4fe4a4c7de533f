"""A fresh PostgreSQL database per test, on the server every machine runs (127.0.0.1:5432).

`NEWSBOT_TEST_POSTGRES` names another server (a URL without the database name's part). Tests
that use it skip with a message when the server or psycopg is missing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SERVER = os.environ.get("NEWSBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new empty database, dropped afterwards (with whoever is still connected)."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[scale]')")
    name = f"newsbot_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {SERVER}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
