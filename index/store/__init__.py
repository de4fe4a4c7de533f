"""SQLite storage: articles, chunks and an FTS5 (BM25) table over the chunk text.

One database file in the data directory, opened through `db.sqlite.Database` (per-thread
connections, numbered migrations in `schema.py`). WAL mode, so readers never wait for a writer
and never see half of an ingest: every ingest batch is one transaction, and the FAISS
generation that matches the committed rows is recorded in the same transaction
(`meta.generation`). All of the index's SQL lives in this package.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from db.sqlite import Database
from index.store.articles import ArticleReads
from index.store.rows import ArticleRow, ChunkRow, body_hash, iso, parse_iso
from index.store.schema import MIGRATIONS
from index.store.words import WordReads

__all__ = ["MIGRATIONS", "ArticleRow", "ChunkRow", "Store", "body_hash", "iso", "parse_iso"]


class Store(ArticleReads, WordReads):
    """Thread-safe access to the index database: one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database(
            path,
            MIGRATIONS,
            what="index database",
            foreign_keys=True,
            remedy="move the data folder away and run `newsbot ingest` again",
        )

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self.db.conn

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic write transaction (rolled back on any exception)."""
        return self.db.write()

    def snapshot(self) -> AbstractContextManager[sqlite3.Connection]:
        """A consistent read view across several queries."""
        return self.db.snapshot()

    @property
    def version(self) -> int:
        return self.db.version

    @property
    def read_only(self) -> bool:
        """The file is in a folder this process cannot write: it is read, never written."""
        return self.db.read_only

    @property
    def open_connections(self) -> int:
        return self.db.open_connections

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
