"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused into one ranking."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from index.store import ArticleRow, Store, iso
from index.text import query_terms
from index.vectors import Vectors


@dataclass(frozen=True)
class Filters:
    """Optional restrictions: published date range and outlets (case-insensitive)."""

    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.since:
            clauses.append("a.published_at >= ?")
            params.append(iso(self.since))
        if self.until:
            clauses.append("a.published_at < ?")
            params.append(iso(self.until))
        if self.sources:
            marks = ",".join("?" * len(self.sources))
            clauses.append(f"lower(a.source) IN ({marks})")
            params.extend(s.lower() for s in self.sources)
        return " AND ".join(clauses) or "1", params


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion weights and candidate depth; tuned on the dev half of MultiHop-RAG."""

    candidates: int = 100
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    title_weight: float = 0.5


@dataclass
class Passage:
    """A retrieved chunk with its article and the scores that ranked it."""

    chunk_id: int
    article: ArticleRow
    text: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


class Searcher:
    """Ranks chunks for a question. Holds no state of its own beyond what it is given."""

    def __init__(
        self,
        store: Store,
        encode: Callable[[list[str]], np.ndarray],
        vectors: Callable[[], Vectors],
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.encode = encode
        self.vectors = vectors
        self.config = config or RetrievalConfig()
        self._df_cache: dict[str, int] = {}
        self._df_generation: int | None = None

    def search(self, question: str, top: int = 10, filters: Filters | None = None) -> list[Passage]:
        filters = filters or Filters()
        cfg = self.config
        vectors = self.vectors()
        allowed: list[int] | None = None
        if filters:
            where, params = filters.sql()
            allowed = self.store.chunk_ids_where(where, params)
            if not allowed:
                return []
        query_vector = self.encode([question])[0]
        dense = dict(vectors.search(query_vector, cfg.candidates, allowed))
        lexical = self._bm25(question, cfg.candidates, filters)
        candidate_ids = list(dict.fromkeys([*dense, *lexical]))
        if not candidate_ids:
            return []
        missing = [i for i in candidate_ids if i not in dense]
        if missing:
            dense.update(self._exact_cosines(vectors, query_vector, missing))
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        scored = []
        for chunk_id in candidate_ids:
            d = dense.get(chunk_id, 0.0)
            lex = lexical.get(chunk_id, 0.0) / top_lexical
            scored.append((cfg.dense_weight * d + cfg.lexical_weight * lex, chunk_id, d, lex))
        scored.sort(reverse=True)
        chunks = self.store.chunks([s[1] for s in scored[: max(top * 3, top)]])
        articles = self.store.articles(c.article_id for c in chunks.values())
        passages: list[Passage] = []
        for score, chunk_id, d, lex in scored:
            chunk = chunks.get(chunk_id)
            if chunk is None or chunk.article_id not in articles:
                continue  # removed by a concurrent ingest
            passages.append(
                Passage(chunk_id, articles[chunk.article_id], chunk.text, score, d, lex)
            )
            if len(passages) >= top:
                break
        return passages

    def _bm25(self, question: str, k: int, filters: Filters) -> dict[int, float]:
        terms = query_terms(question)
        if not terms:
            return {}
        match = " OR ".join(f'"{t}"' for t in terms)
        weight = self.config.title_weight
        sql = (
            f"SELECT rowid, -bm25(chunks_fts, {weight}, 1.0) AS s FROM chunks_fts"
            " WHERE chunks_fts MATCH ?"
        )
        params: list[object] = [match]
        if filters:
            where, extra = filters.sql()
            sql += (
                " AND rowid IN (SELECT c.id FROM chunks c JOIN articles a"
                f" ON a.id = c.article_id WHERE {where})"
            )
            params.extend(extra)
        sql += " ORDER BY s DESC LIMIT ?"
        params.append(k)
        try:
            rows = self.store.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return {}
        return {int(r[0]): max(float(r[1]), 0.0) for r in rows}

    @staticmethod
    def _exact_cosines(vectors: Vectors, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for chunk_id in ids:
            try:
                vector = vectors.index.reconstruct(int(chunk_id))
            except RuntimeError:
                continue
            out[chunk_id] = float(np.dot(vector, query))
        return out

    def term_weights(self, terms: list[str], generation: int) -> dict[str, float]:
        """IDF of each query term over the chunk collection (FTS5 applies the same stemming)."""
        if generation != self._df_generation:
            self._df_cache.clear()
            self._df_generation = generation
        conn = self.store.conn
        total = conn.execute("SELECT count(*) FROM chunks").fetchone()[0] or 1
        weights: dict[str, float] = {}
        for term in terms:
            if term not in self._df_cache:
                try:
                    row = conn.execute(
                        "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                        (f'text:"{term}"',),
                    ).fetchone()
                    self._df_cache[term] = int(row[0])
                except sqlite3.OperationalError:
                    self._df_cache[term] = 0
            df = self._df_cache[term]
            weights[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return weights
