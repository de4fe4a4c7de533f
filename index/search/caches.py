"""What searches read again and again, for one generation of the index.

A new generation (an ingest committed) gets a new `Generation` object; the old one is never
cleared, so a search that started before the swap reads a consistent set of counts to its end
while the next search starts on the new one. Within a generation the lookups fill in lazily
(every thread would compute the same value, so a race only costs a repeated query).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np

from index.chunking import passage_sentences
from index.query import QueryAnalyser
from index.search.bm25 import TermScores
from index.search.config import ChunkMeta, Filters
from index.spelling import Speller
from index.store import Store
from index.store.rows import iso
from index.text import stem, words
from index.vectors import Vectors

# chunk metadata kept per generation: ~200 bytes each, so at most ~100 MB
CHUNK_META_CACHED = 500_000
# sentence vectors kept decoded (float32) per generation, the most recently read first: the
# float16 -> float32 decoding of a re-ranked chunk's rows was ~1 ms of a question
SENTENCE_VECTORS_CACHED = 48 * 2**20  # bytes
# articles whose sentences quoting has read, kept split (~10 KB each): the cited articles of
# popular stories come back question after question
ARTICLES_CACHED = 1024


@dataclass(frozen=True, slots=True)
class SplitArticle:
    """An article's sentences in order and once (its passages overlap by a sentence), and
    which of each chunk's sentences they are: `pieces` holds (chunk id, the positions kept
    among its sentences, how many it has)."""

    sentences: tuple[str, ...]
    pieces: tuple[tuple[int, tuple[int, ...], int], ...]


class Generation:
    """One generation of the index as searches see it: its vectors, and caches of document
    frequencies (IDF), phrase counts, each outlet's chunks, the outlets a question can name,
    the newest article's date and the spelling vocabulary."""

    def __init__(self, number: int, store: Store, vectors: Vectors) -> None:
        self.number = number
        self.store = store
        self.vectors = vectors
        self.df: dict[str, int] = {}  # term -> chunks holding it; '"a phrase"' -> chunks
        self._source_chunks: dict[str, list[int]] = {}
        self._chunk_meta: ChunkMeta = {}
        self._sentence_vectors: OrderedDict[int, np.ndarray] = OrderedDict()
        self._sentence_bytes = 0
        self._articles: OrderedDict[str, SplitArticle] = OrderedDict()
        self._lock = threading.Lock()  # the kept vectors' and articles' order: shared by threads
        self.speller = Speller(store)
        # BM25: the backend's own when it has one (Milvus), else SQLite's FTS5, term by term
        self.text_search = getattr(vectors, "text_search", None) or TermScores(store)

    @cached_property
    def analyser(self) -> QueryAnalyser:
        return QueryAnalyser([s for s, _, _ in self.store.sources()], self.store.source_sites())

    @cached_property
    def newest(self) -> datetime | None:
        """When the newest article was published: what 'recent' is measured from."""
        return self.store.newest_published()

    @property
    def undated(self) -> int:
        """How many articles have no publication time."""
        return self._published_span[2]

    def passes_all(self, filters: Filters) -> bool:
        """The filter is a date range around all the reporting ("in 2023" asked of 2023's
        news, "since 2020"): it lets every chunk through, so it need not be applied."""
        if filters.sources or filters.article_ids is not None:
            return False
        oldest, newest, undated = self._published_span
        if undated or oldest is None or newest is None:
            return False
        since, until = iso(filters.since), iso(filters.until)
        return (since is None or since <= oldest) and (until is None or newest < until)

    @cached_property
    def _published_span(self) -> tuple[str | None, str | None, int]:
        return self.store.published_span()

    @cached_property
    def chunk_count(self) -> int:
        return self.store.chunk_count()

    def source_chunks(self, source: str) -> list[int]:
        chunks = self._source_chunks.get(source)
        if chunks is None:
            chunks = self._source_chunks[source] = self.store.source_chunk_ids(source)
        return chunks

    def chunk_meta(self, ids: Sequence[int]) -> ChunkMeta:
        """chunk id -> (article id, outlet, published) of ranking candidates, each read from
        the store once per generation (up to `CHUNK_META_CACHED` of them)."""
        known = self._chunk_meta
        missing = [i for i in ids if i not in known]
        if missing:
            fetched = self.store.chunk_meta(missing)
            if len(known) + len(fetched) > CHUNK_META_CACHED:
                fetched.update((i, known[i]) for i in ids if i in known)
                return fetched
            known.update(fetched)
        return {i: known[i] for i in ids if i in known}

    def sentence_vectors(self, ids: Sequence[int], dim: int) -> dict[int, np.ndarray]:
        """chunk id -> its sentences' vectors (sentences x dim, float32), the recently read
        ones kept (up to `SENTENCE_VECTORS_CACHED` bytes); chunks without any are absent."""
        found: dict[int, np.ndarray] = {}
        missing: list[int] = []
        cache = self._sentence_vectors
        with self._lock:
            for i in ids:
                matrix = cache.get(i)
                if matrix is None:
                    missing.append(i)
                else:
                    cache.move_to_end(i)
                    found[i] = matrix
        if missing:
            fetched = self.store.sentence_vectors(missing, dim)
            found.update(fetched)
            with self._lock:
                for i, matrix in fetched.items():
                    if i not in cache:
                        cache[i] = matrix
                        self._sentence_bytes += matrix.nbytes
                while self._sentence_bytes > SENTENCE_VECTORS_CACHED and cache:
                    self._sentence_bytes -= cache.popitem(last=False)[1].nbytes
        return found

    def article_sentences(self, article_ids: Sequence[str]) -> dict[str, SplitArticle]:
        """article id -> its sentences, for the articles that have chunks (in id order), the
        recently read ones kept (up to `ARTICLES_CACHED`)."""
        found: dict[str, SplitArticle] = {}
        cache = self._articles
        with self._lock:
            for article_id in article_ids:
                known = cache.get(article_id)
                if known is not None:
                    cache.move_to_end(article_id)
                    found[article_id] = known
        missing = [a for a in article_ids if a not in found]
        if missing:
            rows = self.store.article_chunks(missing)
            read: dict[str, tuple[list[str], list[tuple[int, tuple[int, ...], int]]]] = {}
            for row in rows:
                texts, pieces = read.setdefault(row.article_id, ([], []))
                sentences = passage_sentences(row.text)
                kept = []
                for k, sentence in enumerate(sentences):
                    if texts and sentence in texts[-2:]:
                        continue
                    texts.append(sentence)
                    kept.append(k)
                pieces.append((row.id, tuple(kept), len(sentences)))
            with self._lock:
                for article_id, (texts, pieces) in read.items():
                    found[article_id] = cache[article_id] = SplitArticle(
                        tuple(texts), tuple(pieces)
                    )
                while len(cache) > ARTICLES_CACHED:
                    cache.popitem(last=False)
        return {a: found[a] for a in sorted(found)}

    @property
    def sentence_vector_bytes(self) -> int:
        """What the kept sentence vectors take."""
        return self._sentence_bytes

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """IDF of each query term over the chunk collection (FTS5 applies the same stemming)."""
        total = self.chunk_count or 1
        weights: dict[str, float] = {}
        for term in terms:
            df = self.df.get(term)
            if df is None:
                df = self.df[term] = self.store.term_chunks(term)
            weights[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return weights

    def stem_weights(self, terms: Sequence[str]) -> tuple[dict[str, float], float]:
        """IDF weight of each of `terms`, keyed by its stem, and their sum."""
        weights = {stem(t): w for t, w in self.term_weights(terms).items()}
        return weights, sum(weights.values()) or 1.0

    def unknown(self, term: str) -> bool:
        """No chunk holds the term (looked up by `term_weights` first)."""
        return self.df.get(term, 1) == 0

    def mentions(self, name: str) -> int:
        """How many chunks mention a name as a phrase (the store applies the same tokenizer);
        -1 when it cannot be read as words."""
        phrase = " ".join(words(name))
        key = f'"{phrase}"'
        count = self.df.get(key)
        if count is None:
            found = self.store.phrase_chunks(phrase)
            count = self.df[key] = -1 if found is None else found
        return count
