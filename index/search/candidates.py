"""The first stage: candidates from the whole index and from each outlet the question names,
by dense similarity and by BM25 both (FAISS and FTS5, or Milvus: whichever backend the
generation's vectors are)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from index.query import QueryIntent
from index.search.caches import Generation
from index.search.config import Filters, RetrievalConfig
from index.vectors import Vectors


@dataclass(frozen=True)
class Candidates:
    """The chunks worth scoring, with the BM25 of those the lexical pool holds."""

    ids: set[int]
    bm25: dict[int, float]
    top_bm25: float  # the best BM25 (1 when none): lexical scores are shares of it


def allowed_chunks(gen: Generation, filters: Filters) -> set[int] | None:
    """The chunks a filter lets through; None when there is no filter, or when it lets every
    chunk through (reading the ids of all of them took ~4 ms of a question)."""
    if not filters or gen.passes_all(filters):
        return None
    return set(gen.store.chunk_ids_matching(filters))


def gather(
    cfg: RetrievalConfig,
    gen: Generation,
    vectors: Vectors,
    intent: QueryIntent,
    vector: np.ndarray,
    allowed: set[int] | None,
) -> Candidates:
    """The `candidates` best of the whole (filtered) index and the `source_candidates` best
    of each named outlet, by each of dense and BM25.

    One BM25 query serves the global ranking and each named outlet's; filtering in SQL (a
    `rowid IN (...)` beside MATCH) is a hundred times slower than filtering here.
    """
    bm25 = gen.text_search(intent.terms, cfg.title_weight, cfg.lexical_pool)
    if allowed is not None:
        bm25 = {i: s for i, s in bm25.items() if i in allowed}
    top_score = max(bm25.values(), default=0.0) or 1.0
    pools: list[tuple[list[int] | None, str | None]] = [
        (sorted(allowed) if allowed is not None else None, None)
    ]
    for source in intent.sources:
        chunks = [i for i in gen.source_chunks(source) if allowed is None or i in allowed]
        pools.append((chunks, source if allowed is None else None))
    candidates: set[int] = set()
    for pool, source in pools:
        depth = cfg.candidates if pool is pools[0][0] else cfg.source_candidates
        # an outlet's pool is also named, for a backend that filters by outlet (Milvus)
        candidates.update(i for i, _ in vectors.search(vector, depth, pool, source=source))
        candidates.update(
            _top(bm25 if pool is None else {i: bm25[i] for i in pool if i in bm25}, depth)
        )
    return Candidates(candidates, bm25, top_score)


def _top(scores: dict[int, float], k: int) -> dict[int, float]:
    return dict(heapq.nlargest(k, scores.items(), key=lambda item: item[1]))
