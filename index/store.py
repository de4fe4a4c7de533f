"""SQLite storage: articles, chunks and an FTS5 (BM25) table over the chunk text.

One database file in the data directory. WAL mode, so readers never wait for a writer and never
see half of an ingest: every ingest batch is one transaction, and the FAISS generation that
matches the committed rows is recorded in the same transaction (`meta.generation`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from corpus.models import Article
from index.text import vocabulary_words

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT,
    url TEXT,
    author TEXT,
    published_at TEXT,
    updated_at TEXT,
    category TEXT,
    highlights TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_at);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS articles_body_hash ON articles(body_hash);
CREATE INDEX IF NOT EXISTS articles_ingested ON articles(ingested_at);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
-- one row per chunk: float16 vectors of its sentences, in split_sentences order
CREATE TABLE IF NOT EXISTS sentence_vectors (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
    vectors BLOB NOT NULL
);
-- every word of the chunk texts and how many chunks hold it: what spelling correction knows
CREATE TABLE IF NOT EXISTS vocabulary (
    word TEXT PRIMARY KEY,
    chunks INTEGER NOT NULL
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def body_hash(article: Article) -> str:
    """Same text under another URL (wire stories) hashes the same."""
    import hashlib

    words = re.sub(r"\W+", " ", article.body.lower()).split()
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArticleRow:
    """An article as stored, without its body (what citations need)."""

    id: str
    title: str
    source: str | None
    url: str | None
    published_at: datetime | None
    highlights: tuple[str, ...]
    ingested_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published_at": iso(self.published_at),
        }

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ArticleRow:
        return cls(
            id=row["id"],
            title=row["title"],
            source=row["source"],
            url=row["url"],
            published_at=parse_iso(row["published_at"]),
            highlights=tuple(json.loads(row["highlights"])),
            ingested_at=parse_iso(row["ingested_at"]),
        )


@dataclass(frozen=True)
class ChunkRow:
    id: int
    article_id: str
    position: int
    text: str


class Store:
    """Thread-safe access to the database: one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self.connection() as conn:
            conn.executescript(SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        yield self.conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction; rolled back on any exception (Ctrl-C included)."""
        with self._write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read view across several queries."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str, conn: sqlite3.Connection | None = None) -> str | None:
        row = (conn or self.conn).execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- articles ---------------------------------------------------------------------------

    def _rows_in(self, sql: str, ids: Sequence[object]) -> Iterator[sqlite3.Row]:
        """Rows of `sql` for the given ids, where `{marks}` in `sql` stands for the id list;
        500 at a time, under SQLite's limit on bound variables."""
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            yield from self.conn.execute(sql.format(marks=",".join("?" * len(part))), part)

    def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        sql = "SELECT id, content_hash FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for row in self._rows_in(sql, ids)}

    def article_with_body_hash(self, digest: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM articles WHERE body_hash=? LIMIT 1", (digest,)
        ).fetchone()
        return row[0] if row else None

    @staticmethod
    def chunk_ids_of(conn: sqlite3.Connection, article_ids: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for article_id in article_ids:
            rows = conn.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))
            ids.extend(row[0] for row in rows)
        return ids

    @staticmethod
    def delete_articles(conn: sqlite3.Connection, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM chunks WHERE article_id=?", (article_id,)
            )]  # fmt: skip
            conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            texts = [row[0] for row in conn.execute(
                "SELECT text FROM chunks WHERE article_id=?", (article_id,)
            )]  # fmt: skip
            Store._count_words(conn, texts, -1)
            conn.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
            conn.execute("DELETE FROM articles WHERE id=?", (article_id,))

    @staticmethod
    def insert_article(
        conn: sqlite3.Connection, article: Article, chunk_texts: Sequence[str], now: datetime
    ) -> list[int]:
        """Insert an article and its chunks; returns the new chunk ids in order."""
        conn.execute(
            "INSERT INTO articles(id, title, source, url, author, published_at, updated_at,"
            " category, highlights, body, content_hash, body_hash, ingested_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                article.id,
                article.title,
                article.source,
                article.url,
                article.author,
                iso(article.published_at),
                iso(article.updated_at),
                article.category,
                json.dumps(article.highlights, ensure_ascii=False),
                article.body,
                article.content_hash,
                body_hash(article),
                iso(now),
            ),
        )
        ids: list[int] = []
        for position, text in enumerate(chunk_texts):
            cursor = conn.execute(
                "INSERT INTO chunks(article_id, position, text) VALUES (?,?,?)",
                (article.id, position, text),
            )
            chunk_id = int(cursor.lastrowid or 0)
            conn.execute(
                "INSERT INTO chunks_fts(rowid, title, text) VALUES (?,?,?)",
                (chunk_id, article.title, text),
            )
            ids.append(chunk_id)
        Store._count_words(conn, chunk_texts, 1)
        return ids

    @staticmethod
    def _count_words(conn: sqlite3.Connection, texts: Iterable[str], sign: int) -> None:
        """Add (sign 1) or take away (-1) the chunks' words from the vocabulary."""
        counts = Counter(word for text in texts for word in set(vocabulary_words(text)))
        conn.executemany(
            "INSERT INTO vocabulary(word, chunks) VALUES (?, max(?, 0)) "
            "ON CONFLICT(word) DO UPDATE SET chunks = max(chunks + ?, 0)",
            ((word, sign * n, sign * n) for word, n in counts.items()),
        )
        if sign < 0:
            conn.execute("DELETE FROM vocabulary WHERE chunks = 0")

    def known_words(self, words: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each of `words` (those no chunk holds are left out)."""
        sql = "SELECT word, chunks FROM vocabulary WHERE word IN ({marks})"
        return {row[0]: row[1] for row in self._rows_in(sql, list(dict.fromkeys(words)))}

    def words_like(self, prefix: str, shortest: int, longest: int) -> dict[str, int]:
        """Indexed words starting with `prefix`, of a length in [shortest, longest]."""
        rows = self.conn.execute(
            "SELECT word, chunks FROM vocabulary WHERE word >= ? AND word < ?"
            " AND length(word) BETWEEN ? AND ?",
            (prefix, prefix + "\uffff", shortest, longest),
        )
        return {row[0]: row[1] for row in rows}

    def has_vocabulary(self) -> bool:
        return self.conn.execute("SELECT 1 FROM vocabulary LIMIT 1").fetchone() is not None

    @staticmethod
    def insert_sentence_vectors(
        conn: sqlite3.Connection, rows: Iterable[tuple[int, np.ndarray]]
    ) -> None:
        conn.executemany(
            "INSERT INTO sentence_vectors(chunk_id, vectors) VALUES (?, ?)",
            ((chunk_id, matrix.astype(np.float16).tobytes()) for chunk_id, matrix in rows),
        )

    def sentence_vectors(self, ids: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """chunk id -> (sentences x dim) float32; chunks indexed before these existed are absent."""
        sql = "SELECT chunk_id, vectors FROM sentence_vectors WHERE chunk_id IN ({marks})"
        return {
            chunk_id: np.frombuffer(blob, dtype=np.float16).reshape(-1, dim).astype(np.float32)
            for chunk_id, blob in self._rows_in(sql, ids)
        }

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleRow]:
        sql = (
            "SELECT id, title, source, url, published_at, highlights, ingested_at"
            " FROM articles WHERE id IN ({marks})"
        )
        return {
            row["id"]: ArticleRow.from_row(row)
            for row in self._rows_in(sql, list(dict.fromkeys(ids)))
        }

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        sql = "SELECT id, article_id, position, text FROM chunks WHERE id IN ({marks})"
        return {row[0]: ChunkRow(row[0], row[1], row[2], row[3]) for row in self._rows_in(sql, ids)}

    def article_chunks(self, article_ids: Sequence[str]) -> list[ChunkRow]:
        """Every chunk of the given articles, each article's in order."""
        sql = "SELECT id, article_id, position, text FROM chunks WHERE article_id IN ({marks})"
        rows = [ChunkRow(r[0], r[1], r[2], r[3]) for r in self._rows_in(sql, article_ids)]
        return sorted(rows, key=lambda r: (r.article_id, r.position))

    def list_articles(self, filters: object) -> list[ArticleRow]:
        """Articles matching `filters` (an `index.search.Filters`), newest first."""
        where, params = filters.sql()  # type: ignore[attr-defined]
        rows = self.conn.execute(
            "SELECT a.id, a.title, a.source, a.url, a.published_at, a.highlights, a.ingested_at"
            f" FROM articles a WHERE {where}"
            " ORDER BY coalesce(a.published_at, a.ingested_at) DESC",
            params,
        )
        return [ArticleRow.from_row(row) for row in rows]

    def latest(self, limit: int) -> list[ArticleRow]:
        rows = self.conn.execute(
            "SELECT id, title, source, url, published_at, highlights, ingested_at FROM articles"
            " ORDER BY coalesce(published_at, ingested_at) DESC LIMIT ?",
            (limit,),
        )
        return [ArticleRow.from_row(row) for row in rows]

    def chunk_meta(self, ids: Sequence[int]) -> dict[int, tuple[str, str | None, datetime | None]]:
        """chunk id -> (article id, outlet, published) for ranking candidates."""
        sql = (
            "SELECT c.id, a.id, a.source, a.published_at FROM chunks c"
            " JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})"
        )
        return {r[0]: (r[1], r[2], parse_iso(r[3])) for r in self._rows_in(sql, ids)}

    def chunk_ids_where(self, where: str, params: Sequence[object]) -> list[int]:
        """Chunk ids of the articles matching a filter (used to restrict vector search)."""
        rows = self.conn.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
            list(params),
        )
        return [row[0] for row in rows]

    def all_vectors_order(self) -> list[int]:
        return [row[0] for row in self.conn.execute("SELECT id FROM chunks ORDER BY id")]

    def chunk_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def newest_published(self) -> datetime | None:
        row = self.conn.execute("SELECT max(published_at) FROM articles").fetchone()
        return parse_iso(row[0])

    def sources(self) -> list[tuple[str, int, datetime | None]]:
        rows = self.conn.execute(
            "SELECT source, count(*), max(published_at) FROM articles"
            " WHERE source IS NOT NULL GROUP BY source ORDER BY count(*) DESC, source"
        )
        return [(row[0], row[1], parse_iso(row[2])) for row in rows]
