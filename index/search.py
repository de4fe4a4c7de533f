"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused into one ranking."""

from __future__ import annotations

import heapq
import math
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from index.query import QueryAnalyser, QueryIntent
from index.store import ArticleRow, Store, iso
from index.text import query_terms
from index.vectors import Vectors


@dataclass(frozen=True)
class Filters:
    """Optional restrictions: published date range and outlets (case-insensitive)."""

    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] | None = None

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.sources or self.article_ids is not None)

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
        if self.article_ids is not None:
            marks = ",".join("?" * len(self.article_ids))
            clauses.append(f"a.id IN ({marks})")
            params.extend(self.article_ids)
        return " AND ".join(clauses) or "1", params


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion weights and candidate depth; tuned on the dev half of MultiHop-RAG."""

    candidates: int = 100
    lexical_pool: int = 1000
    source_candidates: int = 30
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    title_weight: float = 0.5
    source_bonus: float = 0.0
    date_bonus: float = 0.0
    per_article: int = 10
    strip_outlets: bool = False
    min_dense: float = 0.2
    abstain_unknown_outlet: bool = False


@dataclass
class Passage:
    """A retrieved chunk with its article and the scores that ranked it."""

    chunk_id: int
    article: ArticleRow
    text: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0


class Searcher:
    """Ranks chunks for a question. Holds no state beyond caches keyed by index generation."""

    def __init__(
        self,
        store: Store,
        encode: Callable[[list[str]], np.ndarray],
        vectors: Callable[[], Vectors],
        generation: Callable[[], int],
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.encode = encode
        self.vectors = vectors
        self.generation = generation
        self.config = config or RetrievalConfig()
        self._cache_generation: int | None = None
        self._df_cache: dict[str, int] = {}
        self._source_chunks: dict[str, list[int]] = {}
        self._analyser: QueryAnalyser | None = None

    def _caches(self) -> None:
        generation = self.generation()
        if generation != self._cache_generation:
            self._df_cache.clear()
            self._source_chunks.clear()
            self._analyser = None
            self._cache_generation = generation

    def analyser(self) -> QueryAnalyser:
        self._caches()
        if self._analyser is None:
            self._analyser = QueryAnalyser([s for s, _, _ in self.store.sources()])
        return self._analyser

    def source_chunks(self, source: str) -> list[int]:
        self._caches()
        if source not in self._source_chunks:
            self._source_chunks[source] = self.store.chunk_ids_where("a.source = ?", [source])
        return self._source_chunks[source]

    def search(self, question: str, top: int = 10, filters: Filters | None = None) -> list[Passage]:
        filters = filters or Filters()
        cfg = self.config
        vectors = self.vectors()
        intent = self.analyser().analyse(question)
        allowed: list[int] | None = None
        if filters:
            where, params = filters.sql()
            allowed = self.store.chunk_ids_where(where, params)
            if not allowed:
                return []
        text = strip_outlets(question, intent) if cfg.strip_outlets else question
        query_vector = self.encode([question])[0]
        allowed_set = set(allowed) if allowed is not None else None
        dense = dict(vectors.search(query_vector, cfg.candidates, allowed))
        bm25 = self._bm25(text)
        if allowed_set is not None:
            bm25 = {i: s for i, s in bm25.items() if i in allowed_set}
        lexical = _top(bm25, cfg.candidates)
        named = set(intent.sources)
        if named and cfg.source_candidates:
            for source in intent.sources:
                ids = self.source_chunks(source)
                if allowed_set is not None:
                    ids = [i for i in ids if i in allowed_set]
                dense.update(vectors.search(query_vector, cfg.source_candidates, ids))
                in_source = {i: bm25[i] for i in ids if i in bm25}
                lexical.update(_top(in_source, cfg.source_candidates))
        candidate_ids = list(dict.fromkeys([*dense, *lexical]))
        if not candidate_ids:
            return []
        missing = [i for i in candidate_ids if i not in dense]
        if missing:
            dense.update(self._exact_cosines(vectors, query_vector, missing))
        meta = self.store.chunk_meta(candidate_ids)
        days = set(intent.dates)
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        scored = []
        for chunk_id in candidate_ids:
            if chunk_id not in meta:
                continue  # removed by a concurrent ingest
            source, published = meta[chunk_id][1], meta[chunk_id][2]
            d = dense.get(chunk_id, 0.0)
            lex = lexical.get(chunk_id, 0.0) / top_lexical
            score = cfg.dense_weight * d + cfg.lexical_weight * lex
            if source in named:
                score += cfg.source_bonus
            if days and published is not None and published.date() in days:
                score += cfg.date_bonus
            scored.append((score, chunk_id, d, lex))
        scored.sort(reverse=True)
        picked: list[tuple[float, int, float, float]] = []
        per_article: dict[str, int] = {}
        for item in scored:
            article_id = meta[item[1]][0]
            if per_article.get(article_id, 0) >= cfg.per_article:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            picked.append(item)
            if len(picked) >= top:
                break
        chunks = self.store.chunks([p[1] for p in picked])
        articles = self.store.articles(c.article_id for c in chunks.values())
        passages: list[Passage] = []
        for score, chunk_id, d, lex in picked:
            chunk = chunks.get(chunk_id)
            if chunk is None or chunk.article_id not in articles:
                continue
            article = articles[chunk.article_id]
            passages.append(Passage(chunk_id, article, chunk.text, score, d, lex))
        return passages

    def abstain(self, question: str, passages: list[Passage]) -> bool:
        """True when nothing found is close enough to the question to cite."""
        if not passages:
            return True
        if self.config.abstain_unknown_outlet and self.analyser().analyse(question).unknown_sources:
            return True
        return passages[0].dense < self.config.min_dense

    def _bm25(self, question: str) -> dict[int, float]:
        """BM25 of the best `lexical_pool` chunks matching any query term.

        One query serves the global ranking and each named outlet's; filtering in SQL (a
        `rowid IN (...)` beside MATCH) is a hundred times slower than filtering here.
        """
        terms = query_terms(question)
        if not terms:
            return {}
        match = " OR ".join(f'"{t}"' for t in terms)
        weight = self.config.title_weight
        sql = (
            f"SELECT rowid, -bm25(chunks_fts, {weight}, 1.0) FROM chunks_fts"
            " WHERE chunks_fts MATCH ? ORDER BY 2 DESC LIMIT ?"
        )
        try:
            rows = self.store.conn.execute(sql, (match, self.config.lexical_pool)).fetchall()
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

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        """IDF of each query term over the chunk collection (FTS5 applies the same stemming)."""
        self._caches()
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


def _top(scores: dict[int, float], k: int) -> dict[int, float]:
    return dict(heapq.nlargest(k, scores.items(), key=lambda item: item[1]))


def strip_outlets(question: str, intent: QueryIntent) -> str:
    """The question without the outlet names it mentions (they are handled as filters)."""
    from index.query import outlet_aliases

    text = question
    for source in intent.sources:
        for alias in sorted(outlet_aliases(source), key=len, reverse=True):
            text = re.sub(re.escape(alias), " ", text, flags=re.IGNORECASE)
    return text
