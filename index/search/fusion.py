"""The second stage: one score per candidate from its dense cosine and its BM25, with bonuses
for an outlet or a date the question names and for being recent."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from index.query import QueryIntent
from index.search.candidates import Candidates
from index.search.config import ChunkMeta, RetrievalConfig, Scored


def fuse(
    cfg: RetrievalConfig,
    intent: QueryIntent,
    found: Candidates,
    ids: list[int],
    dense: np.ndarray,
    meta: ChunkMeta,
    newest: datetime | None,
) -> list[Scored]:
    """`dense_weight` x cosine + `lexical_weight` x BM25 share, + `source_bonus` for a named
    outlet, + `date_bonus` for a named day, + the recency weight x 0.5 ** (days older than the
    newest article / `half_life_days`); best first."""
    named, days = set(intent.sources), set(intent.dates)
    recency = cfg.recent_weight if intent.recent else cfg.freshness_weight
    scored = []
    for chunk_id, d in zip(ids, dense.tolist(), strict=True):
        _, source, published = meta[chunk_id]
        lex = found.bm25.get(chunk_id, 0.0) / found.top_bm25
        score = cfg.dense_weight * d + cfg.lexical_weight * lex
        if source in named:
            score += cfg.source_bonus
        if published is not None:
            if published.date() in days:
                score += cfg.date_bonus
            if recency and newest is not None:
                age = max((newest - published).total_seconds(), 0.0) / 86400
                score += recency * 0.5 ** (age / cfg.half_life_days)
        scored.append((score, chunk_id, d, lex))
    scored.sort(reverse=True)
    return scored
