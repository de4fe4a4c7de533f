"""The same store interface as `db.sqlite.Database`, on a PostgreSQL server (`DATABASE_URL`).

Several bot workers share one database: subscriptions and their digest claims, the feed list,
the questions behind "More" buttons. A store keeps its SQL written once, in the form both
engines read (`?` placeholders, `ON CONFLICT`, `IS ?` for a nullable match); this module turns
it into psycopg's (`%s`, `IS NOT DISTINCT FROM`), and its SQLite migrations into PostgreSQL's
(64-bit integers, as SQLite's are; AUTOINCREMENT ids from a sequence). Each store names its
schema version in the
`newsbot_schema` table (the counterpart of SQLite's `PRAGMA user_version`); migrations run
under an advisory lock, so workers starting together apply each one once. psycopg 3 and its
pool are an optional extra (`pip install -e '.[scale]'`), imported only when a URL is given.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from db.sqlite import Migration, SchemaTooNew

_PLACEHOLDER = re.compile(r"\bIS \?|\?")
_SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS newsbot_schema (store TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def without_password(url: str) -> str:
    """A database URL fit for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def schema_sql(statement: str) -> str:
    """A SQLite migration statement as PostgreSQL's DDL (SQLite's INTEGER holds 64 bits)."""
    statement = statement.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    return re.sub(r"\bINTEGER\b", "BIGINT", statement)


def translate(sql: str) -> str:
    """SQLite-style SQL -> psycopg's: `?` -> `%s`, `IS ?` -> `IS NOT DISTINCT FROM %s`."""
    sql = sql.replace("%", "%%")
    return _PLACEHOLDER.sub(lambda m: "IS NOT DISTINCT FROM %s" if m[0] != "?" else "%s", sql)


class Row(tuple):
    """A result row read by name (`row["id"]`) or position (`row[0]`), like sqlite3.Row."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    kind = type("Row", (Row,), {"_names": names})
    return lambda values: kind(values)


class Connection:
    """A pooled psycopg connection that takes SQLite-style SQL."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(translate(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Any:
        cursor = self._conn.cursor()
        cursor.executemany(translate(sql), [tuple(row) for row in rows])
        return cursor


class Result(list):
    """Rows already fetched, read as a sqlite3 cursor is (`fetchone`, `fetchall`, iteration)."""

    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return list(self)


class PooledReads:
    """What `Database.conn` is on SQLite: each statement runs on a pooled connection
    (autocommit) and comes back fetched, so a read never holds a connection."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        return Result(self._db.query(sql, params))


class PostgresDatabase:
    """One store's tables in a PostgreSQL database, with numbered migrations."""

    read_only = False  # as `Database.read_only`: a server takes writes

    def __init__(
        self,
        url: str,
        migrations: Sequence[Migration],
        *,
        store: str,
        what: str = "database",
        max_connections: int = 8,
    ) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        self.store = store
        self.what = what
        self._migrations = tuple(migrations)
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            open=True,
            name=f"newsbot-{store}",
        )
        try:
            self.migrate()
        except BaseException:  # a newer schema, a failed step: no pool left to the collector
            self.pool.close()
            raise

    @property
    def path(self) -> str:
        """Where the store lives, for messages (the URL without its password)."""
        return without_password(self.url)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One atomic transaction (rolled back on any exception)."""
        with self.pool.connection() as conn, conn.transaction():
            yield Connection(conn)

    @property
    def conn(self) -> PooledReads:
        """Reads one statement at a time, as `Database.conn`'s per-thread connection."""
        return PooledReads(self)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.pool.connection() as conn:
            return conn.execute(translate(sql), tuple(params)).fetchall()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """True when this process holds the advisory lock `name` for the block; False, at
        once, when another worker holds it (a killed worker's lock goes with its session)."""
        key = zlib.crc32(f"newsbot-{self.store}-{name}".encode())
        with self.pool.connection() as conn:
            held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0])
            try:
                yield held
            finally:
                if held:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        rows = self.query("SELECT version FROM newsbot_schema WHERE store=?", (self.store,))
        return int(rows[0][0]) if rows else 0

    @property
    def latest(self) -> int:
        return len(self._migrations)

    def migrate(self) -> None:
        """Bring this store's tables up to the newest schema, one migration at a time."""
        lock = zlib.crc32(b"newsbot-schema")
        with self.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
            conn.execute(_SCHEMA_TABLE)
            row = conn.execute(
                "SELECT version FROM newsbot_schema WHERE store=?", (self.store,)
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > self.latest:
                raise SchemaTooNew(
                    f"The {self.what} in {self.path} has schema version {version}; this "
                    f"version of newsbot knows up to {self.latest}. Upgrade newsbot."
                )
            for step in self._migrations[version:]:
                if callable(step):  # a data migration: runs on the store's connection
                    step(conn)
                    continue
                for statement in step:
                    conn.execute(schema_sql(statement))
            conn.execute(
                "INSERT INTO newsbot_schema (store, version) VALUES (?, ?) "
                "ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                (self.store, self.latest),
            )
