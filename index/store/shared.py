"""The index's rows on PostgreSQL (DATABASE_URL with VECTOR_BACKEND=milvus), so bot workers
on several machines read one index; an index a deployment built on one machine before is
moved there once, from its SQLite file: nothing is encoded again."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TypeVar

from index.store import Store
from index.store.terms import tsvector
from index.store.words import count_words

log = logging.getLogger(__name__)
T = TypeVar("T")
_ARTICLE_COLUMNS = (
    "id, title, source, url, author, published_at, updated_at, category, highlights, body,"
    " content_hash, body_hash, ingested_at"
)


def _batches(rows: Iterable[T], size: int = 1000) -> Iterator[list[T]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def open_shared(url: str, local: Path) -> Store:
    """The index tables at `url`; filled from the SQLite index `local` when they are empty
    and it exists (its vectors go to Milvus on first use, `backends.open_milvus`)."""
    store = Store(url)
    if local.exists() and not store.article_count():
        with Store(local) as source:
            copied = copy_index(source, store)
        if copied:
            log.info("copied %d articles from %s to PostgreSQL", copied, local)
    return store


def copy_index(source: Store, target: Store) -> int:
    """Every row of `source` (SQLite) into `target` (PostgreSQL) in one transaction, chunk
    ids kept (Milvus keys its rows by them), each chunk's terms and the vocabulary counted on
    the way. Does
    nothing when `target` holds articles already (another worker copied first). Returns the
    articles copied."""
    with target.write() as conn:
        if conn.execute("SELECT count(*) FROM articles").fetchone()[0]:
            return 0
        reads = source.conn
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [tuple(row) for row in reads.execute("SELECT key, value FROM meta")],
        )
        copied = 0
        for batch in _batches(reads.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles")):
            conn.executemany(
                f"INSERT INTO articles({_ARTICLE_COLUMNS}) VALUES ({','.join('?' * 13)})",
                [tuple(row) for row in batch],
            )
            copied += len(batch)
        chunks = reads.execute(
            "SELECT c.id, c.article_id, c.position, c.text, a.title FROM chunks c"
            " JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        )
        for batch in _batches(chunks):
            count_words(conn, [text for _, _, _, text, _ in batch], 1)
            conn.executemany(
                "INSERT INTO chunks(id, article_id, position, text, title_terms, text_terms)"
                " VALUES (?,?,?,?,?::tsvector,?::tsvector)",
                [
                    (i, a, p, text, tsvector(title), tsvector(text))
                    for i, a, p, text, title in batch
                ],
            )
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('chunks', 'id'), max(id)) FROM chunks"
            " HAVING max(id) IS NOT NULL"
        )
        for batch in _batches(reads.execute("SELECT chunk_id, vectors FROM sentence_vectors")):
            conn.executemany(
                "INSERT INTO sentence_vectors(chunk_id, vectors) VALUES (?, ?)",
                [tuple(row) for row in batch],
            )
    with target.write() as conn:
        conn.execute("ANALYZE")  # the planner's counts, before the first search
    return copied
