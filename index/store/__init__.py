"""The index's rows: articles, chunks and an FTS5 (BM25) table over the chunk text.

One SQLite file in the data directory, opened through `db.sqlite.Database` (per-thread
connections, numbered migrations in `schema.py`). WAL mode, so readers never wait for a writer
and never see half of an ingest: every ingest batch is one transaction, and the FAISS
generation that matches the committed rows is recorded in the same transaction
(`meta.generation`). Or, for several workers on several machines, the same tables on a
PostgreSQL server (`db.postgres`; Milvus then ranks by BM25, and each chunk keeps its terms
for the counts FTS5 gives). All of the index's SQL lives in this package.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from db.postgres import PostgresDatabase, is_postgres_url
from db.sqlite import Database
from index.store.articles import ArticleReads
from index.store.rows import ArticleRow, ChunkRow, body_hash, iso, parse_iso
from index.store.schema import MIGRATIONS, POSTGRES_MIGRATIONS
from index.store.words import WordReads

WRITER_LOCK = zlib.crc32(b"newsbot-index-writer")

__all__ = ["MIGRATIONS", "ArticleRow", "ChunkRow", "Store", "body_hash", "iso", "parse_iso"]


class Store(ArticleReads, WordReads):
    """Thread-safe access to the index database: a SQLite file (one connection per thread)
    or a `postgresql://` URL (a pool)."""

    def __init__(self, location: Path | str) -> None:
        self.db: Database | PostgresDatabase
        if is_postgres_url(location):
            self.db = PostgresDatabase(
                str(location), POSTGRES_MIGRATIONS, store="index", what="index database"
            )
            self.path: Path | str = self.db.path
            return
        self.path = Path(location)
        self.db = Database(
            self.path,
            MIGRATIONS,
            what="index database",
            foreign_keys=True,
            remedy="move the data folder away and run `newsbot ingest` again",
        )

    @property
    def postgres(self) -> bool:
        """The rows are on PostgreSQL (no FTS5: the chunks' term columns answer its counts)."""
        return isinstance(self.db, PostgresDatabase)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self.db.conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (rolled back on any exception), one writer at a
        time: SQLite's write lock, or on PostgreSQL a lock held to the commit."""
        with self.db.write() as conn:
            if self.postgres:
                conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
            yield conn  # type: ignore[misc]

    @property
    def version(self) -> int:
        return self.db.version

    @property
    def read_only(self) -> bool:
        """The file is in a folder this process cannot write: it is read, never written."""
        return self.db.read_only

    @property
    def open_connections(self) -> int:
        return 0 if isinstance(self.db, PostgresDatabase) else self.db.open_connections

    def close(self) -> None:
        """Close every thread's connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_meta(self, key: str, conn: sqlite3.Connection | None = None) -> str | None:
        return self.get_meta_in(conn or self.conn, key)

    @staticmethod
    def get_meta_in(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )
