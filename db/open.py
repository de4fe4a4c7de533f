"""Open a store's database: a SQLite file by default, PostgreSQL when given its URL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from db.postgres import PostgresDatabase, is_postgres_url
from db.sqlite import Database, Migration


def open_database(
    location: str | Path,
    migrations: Sequence[Migration],
    pg_migrations: Sequence[Sequence[str]],
    *,
    store: str,
    what: str,
) -> Database | PostgresDatabase:
    """`location` is a file path or a `postgresql://` URL (several workers share the latter)."""
    if is_postgres_url(location):
        return PostgresDatabase(str(location), pg_migrations, store=store, what=what)
    return Database(Path(location), migrations, what=what)
