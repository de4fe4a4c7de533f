"""The store's article and chunk rows: writing an ingest batch, reading what ranking and
citations need."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from corpus.models import Article
from index.store.rows import ArticleRow, ChunkRow, body_hash, iso, parse_iso, rows_in
from index.store.terms import tsvector
from index.store.words import count_words

_ARTICLE = "id, title, source, url, published_at, highlights, ingested_at"


class ArticleFilter(Protocol):
    """What `index.search.Filters` holds: a published range, outlets, article ids."""

    since: datetime | None
    until: datetime | None
    sources: tuple[str, ...]
    article_ids: tuple[str, ...] | None


def filter_where(filters: ArticleFilter) -> tuple[str, list[object]]:
    """The WHERE clause (over `articles a`) and its parameters for a filter."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.since:
        clauses.append("a.published_at >= ?")
        params.append(iso(filters.since))
    if filters.until:
        clauses.append("a.published_at < ?")
        params.append(iso(filters.until))
    if filters.sources:
        marks = ",".join("?" * len(filters.sources))
        clauses.append(f"lower(a.source) IN ({marks})")
        params.extend(s.lower() for s in filters.sources)
    if filters.article_ids is not None:
        marks = ",".join("?" * len(filters.article_ids))
        clauses.append(f"a.id IN ({marks})")
        params.extend(filters.article_ids)
    return " AND ".join(clauses) or "TRUE", params


class ArticleReads:
    """Articles and chunks (mixed into `Store`)."""

    conn: sqlite3.Connection

    # -- writing (inside `Store.write()`) ---------------------------------------------------

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
            if isinstance(conn, sqlite3.Connection):  # PostgreSQL's terms go with the rows
                conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            texts = [row[0] for row in conn.execute(
                "SELECT text FROM chunks WHERE article_id=?", (article_id,)
            )]  # fmt: skip
            count_words(conn, texts, -1)
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
        fts5 = isinstance(conn, sqlite3.Connection)
        title_terms = "" if fts5 else tsvector(article.title)
        for position, text in enumerate(chunk_texts):
            if fts5:
                row = conn.execute(
                    "INSERT INTO chunks(article_id, position, text) VALUES (?,?,?) RETURNING id",
                    (article.id, position, text),
                ).fetchone()
                conn.execute(
                    "INSERT INTO chunks_fts(rowid, title, text) VALUES (?,?,?)",
                    (row[0], article.title, text),
                )
            else:
                row = conn.execute(
                    "INSERT INTO chunks(article_id, position, text, title_terms, text_terms)"
                    " VALUES (?,?,?,?::tsvector,?::tsvector) RETURNING id",
                    (article.id, position, text, title_terms, tsvector(text)),
                ).fetchone()
            ids.append(int(row[0]))
        count_words(conn, chunk_texts, 1)
        return ids

    # -- articles ---------------------------------------------------------------------------

    def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        sql = "SELECT id, content_hash FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for row in rows_in(self.conn, sql, ids)}

    def article_with_body_hash(self, digest: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM articles WHERE body_hash=? LIMIT 1", (digest,)
        ).fetchone()
        return row[0] if row else None

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleRow]:
        sql = f"SELECT {_ARTICLE} FROM articles WHERE id IN ({{marks}})"
        return {
            row["id"]: ArticleRow.from_row(row)
            for row in rows_in(self.conn, sql, list(dict.fromkeys(ids)))
        }

    def list_articles(self, filters: ArticleFilter, limit: int | None = None) -> list[ArticleRow]:
        """Articles matching `filters` (an `index.search.Filters`), newest first (the `limit`
        newest when given)."""
        where, params = filter_where(filters)
        rows = self.conn.execute(
            "SELECT a.id, a.title, a.source, a.url, a.published_at, a.highlights, a.ingested_at"
            f" FROM articles a WHERE {where}"
            " ORDER BY coalesce(a.published_at, a.ingested_at) DESC"
            + (" LIMIT ?" if limit is not None else ""),
            [*params, limit] if limit is not None else params,
        )
        return [ArticleRow.from_row(row) for row in rows]

    def latest(self, limit: int) -> list[ArticleRow]:
        rows = self.conn.execute(
            f"SELECT {_ARTICLE} FROM articles"
            " ORDER BY coalesce(published_at, ingested_at) DESC LIMIT ?",
            (limit,),
        )
        return [ArticleRow.from_row(row) for row in rows]

    def arrived_between(self, since: datetime, until: datetime) -> list[str]:
        """Ids of the articles ingested or published in (since, until], newest first."""
        rows = self.conn.execute(
            "SELECT id FROM articles WHERE (ingested_at > ? AND ingested_at <= ?)"
            " OR (published_at > ? AND published_at <= ?)"
            " ORDER BY coalesce(published_at, ingested_at) DESC",
            (since.isoformat(), until.isoformat(), since.isoformat(), until.isoformat()),
        )
        return [row[0] for row in rows]

    def article_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def published_range(self) -> tuple[datetime | None, datetime | None]:
        first, last = self.conn.execute(
            "SELECT min(published_at), max(published_at) FROM articles"
        ).fetchone()
        return parse_iso(first), parse_iso(last)

    def published_span(self) -> tuple[str | None, str | None, int]:
        """The oldest and newest publication times as stored (ISO text, compared as the
        filters compare them) and how many articles have none."""
        row = self.conn.execute(
            "SELECT min(published_at), max(published_at), count(*) - count(published_at)"
            " FROM articles"
        ).fetchone()
        return row[0], row[1], int(row[2])

    def newest_published(self) -> datetime | None:
        row = self.conn.execute("SELECT max(published_at) FROM articles").fetchone()
        return parse_iso(row[0])

    def sources(self) -> list[tuple[str, int, datetime | None]]:
        rows = self.conn.execute(
            "SELECT source, count(*), max(published_at) FROM articles"
            " WHERE source IS NOT NULL GROUP BY source ORDER BY count(*) DESC, source"
        )
        return [(row[0], row[1], parse_iso(row[2])) for row in rows]

    def source_sites(self) -> dict[str, str]:
        """An article address of each outlet: people name an outlet by its site too."""
        rows = self.conn.execute(
            "SELECT source, min(url) FROM articles"
            " WHERE source IS NOT NULL AND url IS NOT NULL GROUP BY source"
        )
        return {row[0]: row[1] for row in rows}

    # -- chunks -----------------------------------------------------------------------------

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        sql = "SELECT id, article_id, position, text FROM chunks WHERE id IN ({marks})"
        rows = rows_in(self.conn, sql, ids)
        return {row[0]: ChunkRow(row[0], row[1], row[2], row[3]) for row in rows}

    def newest_chunk_texts(self, limit: int) -> list[str]:
        """The texts of the `limit` chunks stored last."""
        rows = self.conn.execute("SELECT text FROM chunks ORDER BY id DESC LIMIT ?", (limit,))
        return [row[0] for row in rows]

    def article_chunks(self, article_ids: Sequence[str]) -> list[ChunkRow]:
        """Every chunk of the given articles, each article's in order."""
        sql = "SELECT id, article_id, position, text FROM chunks WHERE article_id IN ({marks})"
        rows = [ChunkRow(r[0], r[1], r[2], r[3]) for r in rows_in(self.conn, sql, article_ids)]
        return sorted(rows, key=lambda r: (r.article_id, r.position))

    def first_chunk(self, article_id: str) -> ChunkRow | None:
        """An article's first passage (its lead)."""
        row = self.conn.execute(
            "SELECT id, article_id, position, text FROM chunks WHERE article_id=?"
            " ORDER BY position LIMIT 1",
            (article_id,),
        ).fetchone()
        return ChunkRow(row[0], row[1], row[2], row[3]) if row else None

    def chunk_meta(self, ids: Sequence[int]) -> dict[int, tuple[str, str | None, datetime | None]]:
        """chunk id -> (article id, outlet, published) for ranking candidates."""
        sql = (
            "SELECT c.id, a.id, a.source, a.published_at FROM chunks c"
            " JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})"
        )
        return {r[0]: (r[1], r[2], parse_iso(r[3])) for r in rows_in(self.conn, sql, ids)}

    def chunk_ids_matching(self, filters: ArticleFilter) -> list[int]:
        """Chunk ids of the articles a filter lets through (to restrict vector search)."""
        where, params = filter_where(filters)
        return self._chunk_ids_where(where, params)

    def source_chunk_ids(self, source: str) -> list[int]:
        """Chunk ids of one outlet's articles (its name exactly as stored)."""
        return self._chunk_ids_where("a.source = ?", [source])

    def _chunk_ids_where(self, where: str, params: Sequence[object]) -> list[int]:
        rows = self.conn.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
            list(params),
        )
        return [row[0] for row in rows]

    def chunk_ids(self) -> list[int]:
        """Every chunk id, in order."""
        return [row[0] for row in self.conn.execute("SELECT id FROM chunks ORDER BY id")]

    def chunk_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
