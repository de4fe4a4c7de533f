"""`Searcher`: the stages of retrieval in order, for one parsed question.

candidates (dense + BM25) -> fusion (scores and bonuses) -> rerank (best sentence, one article
per outlet mention, the question's claims covered) -> passages; then, separately, whether they
answer the question at all (evidence and the refusal model). Settings: `RetrievalConfig`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from index.query import QueryAnalyser, QueryIntent
from index.search.caches import Generation
from index.search.candidates import allowed_chunks, gather
from index.search.config import ChunkMeta, Filters, Passage, RetrievalConfig, Scored
from index.search.evidence import Evidence, gather_evidence, unknown_words
from index.search.fusion import fuse
from index.search.rerank import claim_matches, cover, rerank, spread
from index.search.sentences import Probes
from index.spelling import Speller
from index.store import ChunkRow, Store
from index.vectors import Vectors
from index.when import Period, looks_back

Encode = Callable[[str, list[str]], tuple[np.ndarray, np.ndarray]]


class Searcher:
    """Ranks chunks for a question. Holds no state beyond the current generation's caches
    (swapped whole, never cleared) and the last question's vectors."""

    def __init__(
        self,
        store: Store,
        encode: Encode,
        published: Callable[[], tuple[int, Vectors]],
        config: RetrievalConfig | None = None,
        common_word: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self._encode = encode
        self._encoded: tuple[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] | None
        self._encoded = None
        self.published = published  # the current generation number and its vectors
        self.config = config or RetrievalConfig()
        self.common_word = common_word or (lambda word: False)
        self._current: Generation | None = None
        self._searching = 0  # searches running now
        self._counting = threading.Lock()

    def current(self) -> Generation:
        """The caches of the index generation now current (a new object for a new one)."""
        number, vectors = self.published()
        current = self._current
        if current is None or current.number != number:
            current = self._current = Generation(number, self.store, vectors)
        return current

    # -- the question -----------------------------------------------------------------------

    def parse(self, question: str, now: datetime | None = None) -> QueryIntent:
        """The question parsed once for every stage: misspellings corrected, then outlets,
        names, times, clauses and claims found."""
        gen = self.current()
        return gen.analyser.analyse(gen.speller.correct(question, self.common_word), now, question)

    def encode(self, question: str, parts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and its parts' (the last question's are kept: quoting reads
        them again after the search)."""
        key = (question, tuple(parts))
        last = self._encoded
        if last is not None and last[0] == key:
            return last[1]
        encoded = self._encode(question, parts)
        self._encoded = (key, encoded)
        return encoded

    def question_vector(self, intent: QueryIntent) -> np.ndarray:
        return self.encode(intent.text, list(intent.parts))[0]

    # -- ranking ----------------------------------------------------------------------------

    def search(
        self, intent: QueryIntent, top: int = 10, filters: Filters | None = None
    ) -> list[Passage]:
        """Rank chunks for a parsed question.

        Candidates come from the whole index and from each outlet the question names (dense and
        BM25 both); every candidate is scored on both, with a bonus for a named outlet or date,
        and for being recent; the best are re-ranked by their sentences.
        """
        with self._counting:
            self._searching += 1
        try:
            return self._search(intent, top, filters)
        finally:
            with self._counting:
                self._searching -= 1

    def wait_idle(self, longest: float = 0.05) -> None:
        """Wait until no search runs, or `longest` seconds: background work (`index.warm`)
        gives way to questions without stopping for good under a steady stream of them."""
        deadline = time.monotonic() + longest
        while self._searching and time.monotonic() < deadline:
            time.sleep(0.002)

    def _search(self, intent: QueryIntent, top: int, filters: Filters | None) -> list[Passage]:
        cfg, gen = self.config, self.current()
        vectors = gen.vectors
        allowed = allowed_chunks(gen, filters or Filters())
        if allowed is not None and not allowed:
            return []
        parts = list(intent.parts)
        vector, part_vectors = self.encode(intent.text, parts)
        found = gather(cfg, gen, vectors, intent, vector, allowed)
        if not found.ids:
            return []
        meta = gen.chunk_meta(list(found.ids))
        ids = [i for i in found.ids if i in meta]  # others were removed by a concurrent ingest
        dense = vectors.cosines(ids, vector[None, :])[:, 0]
        scored = fuse(cfg, intent, found, ids, dense, meta, gen.newest)
        head = scored[: cfg.rerank_depth]
        rows = self.store.chunks([item[1] for item in head]) if head else {}
        texts = {chunk_id: row.text for chunk_id, row in rows.items()}
        matrices = gen.sentence_vectors(list(texts), len(vector)) if texts else {}
        probes = Probes.read(texts, matrices, [None, *parts], [vector, *part_vectors])
        if rows:
            scored = rerank(cfg, gen, intent, head, probes) + scored[cfg.rerank_depth :]
        lead = min(max(intent.mentions, cfg.spread_min), 4)
        start = 0
        if len(set(intent.sources)) > 1 or lead > 1:
            scored, start = spread(cfg, gen, scored, meta, intent, lead, probes)
        if cfg.cover_weight and len(intent.claims) > 1 and texts:
            matches = claim_matches(cfg, gen, intent, probes)
            scored = cover(cfg, scored, start, top, matches)
        picked = self._per_article(scored, meta, top)
        return self._passages(picked, rows, probes, vector)

    def _per_article(self, scored: list[Scored], meta: ChunkMeta, top: int) -> list[Scored]:
        """The best `top`, at most `per_article` chunks of any one article."""
        picked: list[Scored] = []
        per_article: dict[str, int] = {}
        for item in scored:
            article_id = meta[item[1]][0]
            if per_article.get(article_id, 0) >= self.config.per_article:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            picked.append(item)
            if len(picked) >= top:
                break
        return picked

    def _passages(
        self, picked: list[Scored], rows: dict[int, ChunkRow], probes: Probes, vector: np.ndarray
    ) -> list[Passage]:
        # the re-ranked head was read already; only chunks ranked below it are read here
        chunks = {p[1]: rows[p[1]] for p in picked if p[1] in rows}
        chunks.update(self.store.chunks([p[1] for p in picked if p[1] not in rows]))
        articles = self.store.articles(c.article_id for c in chunks.values())
        unread = [p[1] for p in picked if p[1] not in probes.sentences]
        later = self.current().sentence_vectors(unread, len(vector)) if unread else {}
        passages: list[Passage] = []
        for score, chunk_id, d, lex in picked:
            chunk = chunks.get(chunk_id)
            if chunk is None or chunk.article_id not in articles:
                continue
            cosines = probes.sentences.get(chunk_id)
            if cosines is None and chunk_id in later:
                cosines = later[chunk_id] @ vector
            sentence_cosines = tuple(cosines.tolist()) if cosines is not None else ()
            article = articles[chunk.article_id]
            passages.append(Passage(chunk_id, article, chunk.text, score, d, lex, sentence_cosines))
        return passages

    def article_sentences(
        self, intent: QueryIntent, article_ids: list[str]
    ) -> dict[str, tuple[list[str], list[float]]]:
        """Every sentence of each article, in order and once (passages overlap by a sentence),
        with its cosine to the question."""
        vector = self.question_vector(intent)
        gen = self.current()
        articles = gen.article_sentences(article_ids)
        ids = [chunk_id for a in articles.values() for chunk_id, _, _ in a.pieces]
        matrices = gen.sentence_vectors(ids, len(vector))
        out: dict[str, tuple[list[str], list[float]]] = {}
        for article_id, article in articles.items():
            scores: list[float] = []
            for chunk_id, kept, count in article.pieces:
                matrix = matrices.get(chunk_id)
                if matrix is not None and len(matrix) == count:
                    cosines = (matrix @ vector).tolist()
                    scores.extend(cosines[k] for k in kept)
                else:
                    scores.extend([0.0] * len(kept))
            out[article_id] = (list(article.sentences), scores)
        return out

    # -- refusal ----------------------------------------------------------------------------

    def evidence(self, intent: QueryIntent, passages: list[Passage]) -> Evidence:
        """How well the best passages answer the question, as the refusal model reads it."""
        return gather_evidence(self.config, self.current(), intent, passages, self.common_word)

    def abstain(
        self, intent: QueryIntent, passages: list[Passage], confidence: float = 0.5
    ) -> bool:
        """True when nothing found answers the question well enough to cite: the calibrated
        refusal model (`RetrievalConfig.refusal` over `evidence`) gives it less than
        `confidence`."""
        if not passages or not intent.terms:
            return True
        return self.evidence(intent, passages).answerable(self.config.refusal) < confidence

    def unknown_words(self, intent: QueryIntent) -> bool:
        """True when the question is made of words no article uses and no dictionary has
        ("asdfgh"): there is nothing to search for."""
        return unknown_words(self.current(), intent, self.common_word)

    # -- the current generation's counts ----------------------------------------------------

    def weights(self, intent: QueryIntent) -> dict[str, float]:
        """IDF of each of the question's terms: what quoting weighs words by."""
        return self.current().term_weights(intent.terms)

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        return self.current().term_weights(terms)

    def mentions(self, name: str) -> int:
        return self.current().mentions(name)

    def reported_before(self, period: Period, intent: QueryIntent) -> datetime | None:
        """The newest reporting's time when the question asks what happened in a period after
        it, not what was planned: older reporting cannot say. The period is named with its
        year, or is a day ("last night", "on sunday") in a question that looks back ("who
        won", "how did") and every article is dated (an undated one may be from that day).
        None otherwise."""
        gen = self.current()
        newest = gen.newest
        if newest is None or intent.ahead or period.since <= newest:
            return None
        if period.dated:
            return newest
        day = period.day is not None and looks_back(intent.question) and not gen.undated
        return newest if day else None

    def analyser(self) -> QueryAnalyser:
        return self.current().analyser

    def source_chunks(self, source: str) -> list[int]:
        return self.current().source_chunks(source)

    @property
    def speller(self) -> Speller:
        return self.current().speller
