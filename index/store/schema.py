"""The index database's schema as numbered migrations (`PRAGMA user_version`).

Files written before the schema was numbered have user_version 0 but already hold tables, so
every migration creates only what is missing. The vocabulary and the sentence vectors came
after the first release: an index from then gets its vocabulary counted from its chunks, but
sentence vectors need the model, so the chunks without them are counted and reported (they
rank without the sentence rerank until the index is built again).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter

from db.sqlite import Migration
from index.text import vocabulary_words

log = logging.getLogger(__name__)

TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS articles (
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
    )""",
    "CREATE INDEX IF NOT EXISTS articles_published ON articles(published_at)",
    "CREATE INDEX IF NOT EXISTS articles_source ON articles(source COLLATE NOCASE)",
    "CREATE INDEX IF NOT EXISTS articles_body_hash ON articles(body_hash)",
    "CREATE INDEX IF NOT EXISTS articles_ingested ON articles(ingested_at)",
    """CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
        title, text, tokenize = 'porter unicode61 remove_diacritics 2'
    )""",
)


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,))
    return row.fetchone() is not None


def add_vocabulary(conn: sqlite3.Connection) -> None:
    """Every word of the chunk texts and how many chunks hold it (what spelling correction
    knows); counted from the chunks when an older index lacks it."""
    if _exists(conn, "vocabulary"):
        return
    conn.execute("CREATE TABLE vocabulary (word TEXT PRIMARY KEY, chunks INTEGER NOT NULL) "
                 "WITHOUT ROWID")  # fmt: skip
    _count_vocabulary(conn)


def _count_vocabulary(conn: sqlite3.Connection) -> int:
    """Fill the (empty) vocabulary from the chunk texts; how many chunks were read."""
    counts: Counter[str] = Counter()
    chunks = 0
    for (text,) in conn.execute("SELECT text FROM chunks"):
        counts.update(set(vocabulary_words(text)))
        chunks += 1
    conn.executemany("INSERT INTO vocabulary(word, chunks) VALUES (?, ?)", list(counts.items()))
    return chunks


def recount_vocabulary(conn: sqlite3.Connection) -> None:
    """The vocabulary counted again from the chunks: possessives now count as their word
    ("Puth's" as "puth"), which older code left out."""
    conn.execute("DELETE FROM vocabulary")
    chunks = _count_vocabulary(conn)
    if chunks:
        log.info("spelling vocabulary counted again from %d chunks (once, on upgrade)", chunks)


MISSING_SENTENCE_VECTORS = (
    "SELECT count(*) FROM chunks c"
    " WHERE NOT EXISTS (SELECT 1 FROM sentence_vectors s WHERE s.chunk_id = c.id)"
)


def add_sentence_vectors(conn: sqlite3.Connection) -> None:
    """One row per chunk: float16 vectors of its sentences, in split_sentences order.

    Older code created the table without a migration, so an index may have it and still lack
    the vectors of the chunks written before; either way those chunks are counted and
    reported, not filled in (that takes the model: the index must be built again).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS sentence_vectors (chunk_id INTEGER PRIMARY KEY"
        " REFERENCES chunks(id) ON DELETE CASCADE, vectors BLOB NOT NULL)"
    )
    missing = int(conn.execute(MISSING_SENTENCE_VECTORS).fetchone()[0])
    if missing:
        log.warning(REINGEST_WARNING, missing)


REINGEST_WARNING = (
    "re-ingest needed: %d chunks have no sentence vectors (indexed by an older newsbot) and "
    "rank without the sentence rerank; move the data folder away and run `newsbot ingest` "
    "again to restore it"
)


MIGRATIONS: tuple[Migration, ...] = (
    TABLES,
    add_vocabulary,
    add_sentence_vectors,
    # user_version is the schema's version now; the old meta row was never read
    ("DELETE FROM meta WHERE key = 'schema_version'",),
    recount_vocabulary,
)


# The same tables on PostgreSQL (`DATABASE_URL` with VECTOR_BACKEND=milvus, where Milvus ranks
# by BM25): instead of the FTS5 table, each chunk holds its title's and text's tokens as FTS5
# reads them (`index.store.terms`), and term_counts their document frequencies, so term and
# phrase counts are FTS5's. Text compares and
# sorts by code point (COLLATE "C"), as in SQLite.
POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    (
        'CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)',
        """CREATE TABLE articles (
            id TEXT COLLATE "C" PRIMARY KEY,
            title TEXT NOT NULL,
            source TEXT COLLATE "C",
            url TEXT,
            author TEXT,
            published_at TEXT COLLATE "C",
            updated_at TEXT,
            category TEXT,
            highlights TEXT NOT NULL DEFAULT '[]',
            body TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            body_hash TEXT NOT NULL,
            ingested_at TEXT COLLATE "C" NOT NULL
        )""",
        "CREATE INDEX articles_published ON articles(published_at)",
        "CREATE INDEX articles_source ON articles(lower(source))",
        "CREATE INDEX articles_body_hash ON articles(body_hash)",
        "CREATE INDEX articles_ingested ON articles(ingested_at)",
        """CREATE TABLE chunks (
            id BIGSERIAL PRIMARY KEY,
            article_id TEXT COLLATE "C" NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            title_terms TSVECTOR NOT NULL,
            text_terms TSVECTOR NOT NULL
        )""",
        "CREATE INDEX chunks_article ON chunks(article_id)",
        # no pending list: a bulk load would otherwise slow every search until a vacuum
        "CREATE INDEX chunks_title_terms ON chunks USING GIN (title_terms) WITH (fastupdate = off)",
        "CREATE INDEX chunks_text_terms ON chunks USING GIN (text_terms) WITH (fastupdate = off)",
        'CREATE TABLE vocabulary (word TEXT COLLATE "C" PRIMARY KEY, chunks INTEGER NOT NULL)',
        # how many chunks hold each term in their text (FTS5's document frequency), read
        # for IDF without counting rows: a common word is in a fifth of them
        'CREATE TABLE term_counts (term TEXT COLLATE "C" PRIMARY KEY, chunks INTEGER NOT NULL)',
        """CREATE TABLE sentence_vectors (
            chunk_id BIGINT PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
            vectors BYTEA NOT NULL
        )""",
    ),
    recount_vocabulary,
)
