"""BM25 of a question as the sum of its terms' BM25, each term's scores read from FTS5 once per
index generation.

FTS5's bm25() of an OR query is, for every chunk, the sum over the query's terms (in order) of
that term's IDF times its saturated frequency: exactly the score the chunk gets for a query of
that term alone. So a question's scores are the sums of its terms' one-term scores, in the
same order and the same doubles, and the common words that make an OR query slow (every chunk
holding "said" is scored again for every question) are read once. The best `limit` are kept,
ties broken by chunk id as SQLite breaks them. A term held by more than `max_postings` chunks
is not kept (a corpus of millions): questions with it go to the OR query, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from index.store import Store

Postings = tuple[np.ndarray, np.ndarray]  # chunk ids (int64), their one-term BM25 (float64)
_UNREAD = object()


class TermScores:
    """`text_search` for a SQLite index: a question's BM25, from cached one-term scores."""

    def __init__(
        self, store: Store, max_postings: int = 100_000, max_cached: int = 2_000_000
    ) -> None:
        self.store = store
        self.max_postings = max_postings
        self.max_cached = max_cached  # postings kept over all terms (16 bytes each)
        self._terms: dict[tuple[str, float], Postings | None] = {}
        self._cached = 0
        self._lock = threading.Lock()

    def __call__(self, terms: Sequence[str], title_weight: float, limit: int) -> dict[int, float]:
        """chunk id -> BM25 of the best `limit` chunks holding any of `terms`, as
        `Store.bm25` gives it."""
        if not terms:
            return {}
        parts = []
        for term in terms:
            postings = self._postings(term, title_weight)
            if postings is None:  # too common to keep, or not a term FTS5 can parse
                return self.store.bm25(terms, title_weight, limit)
            parts.append(postings)
        ids = np.concatenate([p[0] for p in parts])
        if not len(ids):
            return {}
        chunks, where = np.unique(ids, return_inverse=True)
        # bincount adds each chunk's terms in the question's order, from 0.0, as FTS5 does
        sums = np.bincount(where, weights=np.concatenate([p[1] for p in parts]))
        best = np.lexsort((chunks, -sums))[:limit]
        return dict(zip(chunks[best].tolist(), sums[best].tolist(), strict=True))

    def read_ahead(self, term: str, title_weight: float) -> bool:
        """Read a term's postings before a question asks for them, while the cache is less
        than half full (the rest is left to the questions); False once it is."""
        if self._cached >= self.max_cached // 2:
            return False
        self._postings(term, title_weight)
        return True

    def _postings(self, term: str, title_weight: float) -> Postings | None:
        """The term's chunk ids and one-term scores; None when the question must go to the OR
        query (a term in too many chunks, or one FTS5 cannot parse)."""
        key = (term, title_weight)
        known = self._terms.get(key, _UNREAD)  # one lookup: another thread may drop the key
        if known is not _UNREAD:
            return known
        rows = self.store.term_bm25(term, title_weight, self.max_postings + 1)
        postings: Postings | None = None
        if rows is not None and len(rows) <= self.max_postings:
            table = np.array(rows, dtype=np.float64).reshape(-1, 2)
            postings = (table[:, 0].astype(np.int64), table[:, 1].copy())
        with self._lock:
            if key in self._terms:  # another thread read it meanwhile
                return postings
            self._terms[key] = postings
            self._cached += len(postings[0]) if postings is not None else 0
            while self._cached > self.max_cached and len(self._terms) > 1:
                oldest = self._terms.pop(next(iter(self._terms)))
                self._cached -= len(oldest[0]) if oldest is not None else 0
        return postings
