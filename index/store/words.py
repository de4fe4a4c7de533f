"""The store's word-level reads and writes: the vocabulary spelling correction knows, FTS5
(BM25 ranking and document counts) and each chunk's sentence vectors."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from index.store.rows import rows_in
from index.store.schema import MISSING_SENTENCE_VECTORS
from index.store.terms import analysed, tsquery_phrase
from index.text import vocabulary_words


def count_words(conn: sqlite3.Connection, texts: Iterable[str], sign: int) -> None:
    """Add (sign 1) or take away (-1) the chunks' words from the vocabulary; on PostgreSQL
    their terms from the term counts too."""
    texts = list(texts)
    _add(conn, "vocabulary", "word", (set(vocabulary_words(text)) for text in texts), sign)
    if not isinstance(conn, sqlite3.Connection):
        _add(conn, "term_counts", "term", (set(analysed(text).split()) for text in texts), sign)


def _add(
    conn: sqlite3.Connection, table: str, key: str, each: Iterable[set[str]], sign: int
) -> None:
    counts = Counter(word for words in each for word in words)
    conn.executemany(
        f"INSERT INTO {table}({key}, chunks) VALUES (?, ?) ON CONFLICT({key}) DO UPDATE"
        f" SET chunks = CASE WHEN {table}.chunks + ? > 0 THEN {table}.chunks + ? ELSE 0 END",
        [(word, max(sign * n, 0), sign * n, sign * n) for word, n in counts.items()],
    )
    if sign < 0:
        conn.execute(f"DELETE FROM {table} WHERE chunks = 0")


class WordReads:
    """Vocabulary, full-text and sentence-vector queries (mixed into `Store`)."""

    conn: sqlite3.Connection
    postgres: bool

    # -- vocabulary -------------------------------------------------------------------------

    def known_words(self, words: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each of `words` (those no chunk holds are left out)."""
        sql = "SELECT word, chunks FROM vocabulary WHERE word IN ({marks})"
        return {row[0]: row[1] for row in rows_in(self.conn, sql, list(dict.fromkeys(words)))}

    def words_like(self, prefix: str, shortest: int, longest: int) -> dict[str, int]:
        """Indexed words starting with `prefix`, of a length in [shortest, longest]."""
        rows = self.conn.execute(
            "SELECT word, chunks FROM vocabulary WHERE word >= ? AND word < ?"
            " AND length(word) BETWEEN ? AND ?",
            (prefix, prefix + "\uffff", shortest, longest),
        )
        return {row[0]: row[1] for row in rows}

    def common_words(self, limit: int) -> list[str]:
        """The `limit` words held by the most chunks, most first."""
        rows = self.conn.execute(
            "SELECT word FROM vocabulary ORDER BY chunks DESC, word LIMIT ?", (limit,)
        )
        return [row[0] for row in rows]

    def has_vocabulary(self) -> bool:
        return self.conn.execute("SELECT 1 FROM vocabulary LIMIT 1").fetchone() is not None

    # -- full text --------------------------------------------------------------------------

    def bm25(self, terms: Sequence[str], title_weight: float, limit: int) -> dict[int, float]:
        """chunk id -> BM25 of the best `limit` chunks matching any of `terms` (empty when
        FTS5 cannot parse them)."""
        if not terms:
            return {}
        match = " OR ".join(f'"{t}"' for t in terms)
        sql = (
            f"SELECT rowid, -bm25(chunks_fts, {title_weight}, 1.0) FROM chunks_fts"
            " WHERE chunks_fts MATCH ? ORDER BY 2 DESC LIMIT ?"
        )
        try:
            rows = self.conn.execute(sql, (match, limit)).fetchall()
        except sqlite3.OperationalError:
            return {}
        scores = dict(rows)
        if rows and rows[-1][1] < 0:  # best first: only the last few can be below zero
            scores = {i: max(s, 0.0) for i, s in scores.items()}
        return scores

    def term_bm25(
        self, term: str, title_weight: float, limit: int
    ) -> list[tuple[int, float]] | None:
        """(chunk id, BM25) of up to `limit` chunks holding one term: FTS5's score for a
        one-term query, which is that term's part of any query's score (None when FTS5
        cannot parse it)."""
        sql = (
            f"SELECT rowid, -bm25(chunks_fts, {title_weight}, 1.0) FROM chunks_fts"
            " WHERE chunks_fts MATCH ? LIMIT ?"
        )
        try:
            return self.conn.execute(sql, (f'"{term}"', limit)).fetchall()
        except sqlite3.OperationalError:
            return None

    def term_chunks(self, term: str) -> int:
        """How many chunks hold the term in their text (stemmed as FTS5 stems it)."""
        if not self.postgres:
            return self._fts5_count(f'text:"{term}"') or 0
        tokens = analysed(term).split()
        if len(tokens) == 1:
            row = self.conn.execute("SELECT chunks FROM term_counts WHERE term=?", tokens)
            return int((row.fetchone() or (0,))[0])
        return self._terms_count("text_terms @@ ?::tsquery", term) or 0  # "covid-19"

    def phrase_chunks(self, phrase: str) -> int | None:
        """How many chunks hold the phrase in their title or text; None when it cannot be
        read as words."""
        if self.postgres:
            where = "title_terms @@ ?::tsquery OR text_terms @@ ?::tsquery"
            return self._terms_count(where, phrase)
        return self._fts5_count(f'"{phrase}"')

    def _fts5_count(self, query: str) -> int | None:
        try:
            row = self.conn.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (query,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        return int(row[0])

    def _terms_count(self, where: str, text: str) -> int | None:
        query = tsquery_phrase(text)
        if query is None:
            return None
        sql = f"SELECT count(*) FROM chunks WHERE {where}"
        return int(self.conn.execute(sql, [query] * where.count("?")).fetchone()[0])

    # -- sentence vectors -------------------------------------------------------------------

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
            for chunk_id, blob in rows_in(self.conn, sql, ids)
        }

    def missing_sentence_vectors(self) -> int:
        """Chunks written by code older than sentence vectors: they rank without them."""
        return int(self.conn.execute(MISSING_SENTENCE_VECTORS).fetchone()[0])
