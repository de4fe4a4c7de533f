"""Open a store's database: a SQLite file by default, PostgreSQL when given its URL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from db.postgres import PostgresDatabase, is_postgres_url
from db.sqlite import Database, Migration


def open_database(
    location: str | Path,
    migrations: Sequence[Migration],
    *,
    store: str,
    what: str,
) -> Database | PostgresDatabase:
    """`location` is a file path or a `postgresql://` URL (several workers share the latter);
    on PostgreSQL the migrations are lists of SQL statements (`db.postgres.schema_sql`)."""
    if is_postgres_url(location):
        steps = [step for step in migrations if not callable(step)]
        if len(steps) != len(migrations):
            raise ValueError(f"the {what} has migrations in code: SQLite only")
        return PostgresDatabase(str(location), steps, store=store, what=what)
    return Database(Path(location), migrations, what=what)
