"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused into one ranking."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from itertools import pairwise

import numpy as np

from index.chunking import passage_sentences
from index.query import QueryAnalyser, QueryIntent
from index.spelling import Speller
from index.store import ArticleRow, ChunkRow, Store, iso
from index.text import STOPWORDS, query_terms, stem, words
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

    def within(self, since: datetime, until: datetime) -> Filters:
        """These filters narrowed to [since, until)."""
        return replace(
            self,
            since=max(self.since, since) if self.since else since,
            until=min(self.until, until) if self.until else until,
        )

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
    """Fusion weights and depths, tuned on the dev half of MultiHop-RAG (even positions).

    Scores: `dense_weight` x cosine + `lexical_weight` x BM25 (as a share of the best BM25),
    + `source_bonus` when the chunk's outlet is one the question names, + `date_bonus` when it
    was published on a date the question names. The best `rerank_depth` are then re-scored by
    their best sentence: `sentence_weight` x the share of the question's IDF weight in it,
    `pair_weight` x the share of the question's adjacent word pairs, `sentence_dense_weight` x
    the sentence vector's cosine, and `second_sentence_weight` x the runner-up sentence's
    share. The top then holds one article per outlet mention (at least `spread_min`), chosen
    with `clause_weight` x the match with that mention's part of the question, less
    `other_clause_weight` x its match with words only the other mentions' parts use, plus
    `clause_dense_weight` x the cosine of its closest sentence to that part's own vector. Below
    the lead, `cover_weight` favours chunks that match a claim of the question (its parts
    between commas and conjunctions; words, plus `claim_dense_weight` x vectors) better than
    the chunks above them did. Newer reports gain `freshness_weight` (`recent_weight` when the
    question says "latest", "currently" ...) x 0.5 ** (days older than the newest article /
    `half_life_days`): among equally good reports on one event, the newest first.

    Whether the passages answer at all is the logistic `refusal` model over `Evidence`
    (fitted on the dev halves of MultiHop-RAG and the everyday-question set by
    benchmarks/tune_answers.py); a period with nothing gets the closest reporting only at
    `fallback_confidence`.
    """

    candidates: int = 100
    source_candidates: int = 30
    lexical_pool: int = 1000
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    title_weight: float = 0.5
    source_bonus: float = 0.7
    date_bonus: float = 0.5
    rerank_depth: int = 40
    sentence_weight: float = 1.0
    second_sentence_weight: float = -0.4
    pair_weight: float = 1.0
    sentence_dense_weight: float = 0.45
    per_article: int = 10
    spread_min: int = 2
    clause_weight: float = 0.6
    clause_date_bonus: float = 0.6
    cover_weight: float = 1.2
    other_clause_weight: float = 1.0
    clause_dense_weight: float = 0.2
    claim_dense_weight: float = 0.3
    # the closest reporting is offered for a period that has nothing only when it is clearly
    # on the topic: the reader asked about another time
    fallback_confidence: float = 0.9
    missing_scale_chunks: int = 5000  # an index this big knows the words of its stories
    recent_weight: float = 0.1
    freshness_weight: float = 0.02
    half_life_days: float = 30.0
    # refusal model: logistic weights for Evidence.features(), bias last
    refusal: tuple[float, ...] = (-4.873, 27.346, -0.822, -39.651, -4.442, -2.993, -2.178, -6.758)


@dataclass
class Passage:
    """A retrieved chunk with its article and the scores that ranked it."""

    chunk_id: int
    article: ArticleRow
    text: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    # cosine of each sentence (split_sentences order) to the question; empty when unknown
    sentence_cosines: tuple[float, ...] = ()


class Searcher:
    """Ranks chunks for a question. Holds no state beyond caches keyed by index generation."""

    def __init__(
        self,
        store: Store,
        encode: Callable[[str, list[str]], tuple[np.ndarray, np.ndarray]],
        vectors: Callable[[], Vectors],
        generation: Callable[[], int],
        config: RetrievalConfig | None = None,
        common_word: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self._encode = encode
        self._encoded: tuple[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] | None
        self._encoded = None
        self.vectors = vectors
        self.generation = generation
        self.config = config or RetrievalConfig()
        self._cache_generation: int | None = None
        self._df_cache: dict[str, int] = {}
        self._source_chunks: dict[str, list[int]] = {}
        self._analyser: QueryAnalyser | None = None
        self._newest: datetime | None = None
        self.speller = Speller(store)
        self.common_word = common_word or (lambda word: False)
        self._chunk_count: int | None = None

    def _caches(self) -> None:
        generation = self.generation()
        if generation != self._cache_generation:
            self._df_cache.clear()
            self._source_chunks.clear()
            self._analyser = None
            self._newest = None
            self._chunk_count = None
            self.speller.clear()
            self._cache_generation = generation

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

    def article_sentences(
        self, intent: QueryIntent, article_ids: list[str]
    ) -> dict[str, tuple[list[str], list[float]]]:
        """Every sentence of each article, in order and once (passages overlap by a sentence),
        with its cosine to the question."""
        vector = self.question_vector(intent)
        rows = self.store.article_chunks(article_ids)
        matrices = self.store.sentence_vectors([r.id for r in rows], len(vector))
        out: dict[str, tuple[list[str], list[float]]] = {}
        for row in rows:
            sentences = passage_sentences(row.text)
            matrix = matrices.get(row.id)
            if matrix is not None and len(matrix) == len(sentences):
                cosines = (matrix @ vector).tolist()
            else:
                cosines = [0.0] * len(sentences)
            texts, scores = out.setdefault(row.article_id, ([], []))
            for sentence, cosine in zip(sentences, cosines, strict=True):
                if texts and sentence in texts[-2:]:
                    continue
                texts.append(sentence)
                scores.append(cosine)
        return out

    def parse(self, question: str, now: datetime | None = None) -> QueryIntent:
        """The question parsed once for every stage: misspellings corrected, then outlets,
        names, times, clauses and claims found."""
        self._caches()
        return self.analyser().analyse(self.speller.correct(question), now, question)

    def newest(self) -> datetime | None:
        """When the newest article was published: what 'recent' is measured from."""
        self._caches()
        if self._newest is None:
            self._newest = self.store.newest_published()
        return self._newest

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

    def search(
        self, intent: QueryIntent, top: int = 10, filters: Filters | None = None
    ) -> list[Passage]:
        """Rank chunks for a parsed question.

        Candidates come from the whole index and from each outlet the question names (dense and
        BM25 both); every candidate is scored on both, with a bonus for a named outlet or date,
        and for being recent.
        """
        filters = filters or Filters()
        cfg = self.config
        vectors = self.vectors()
        question = intent.text
        allowed: set[int] | None = None
        if filters:
            where, params = filters.sql()
            allowed = set(self.store.chunk_ids_where(where, params))
            if not allowed:
                return []
        parts = list(intent.parts)
        vector, part_vectors = self.encode(question, parts)
        bm25 = self._bm25(intent.terms)
        if allowed is not None:
            bm25 = {i: s for i, s in bm25.items() if i in allowed}
        top_score = max(bm25.values(), default=0.0) or 1.0
        pools: list[list[int] | None] = [sorted(allowed) if allowed is not None else None]
        for source in intent.sources:
            pools.append([i for i in self.source_chunks(source) if allowed is None or i in allowed])
        candidates: set[int] = set()
        for pool in pools:
            depth = cfg.candidates if pool is pools[0] else cfg.source_candidates
            candidates.update(i for i, _ in vectors.search(vector, depth, pool))
            candidates.update(
                _top(bm25 if pool is None else {i: bm25[i] for i in pool if i in bm25}, depth)
            )
        if not candidates:
            return []
        meta = self.store.chunk_meta(list(candidates))
        ids = [i for i in candidates if i in meta]  # others were removed by a concurrent ingest
        dense = vectors.cosines(ids, vector[None, :])[:, 0]
        named, days = set(intent.sources), set(intent.dates)
        newest = self.newest()
        recency = cfg.recent_weight if intent.recent else cfg.freshness_weight
        scored = []
        for chunk_id, d in zip(ids, dense.tolist(), strict=True):
            _, source, published = meta[chunk_id]
            lex = bm25.get(chunk_id, 0.0) / top_score
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
        rows: dict[int, ChunkRow] = {}
        head = scored[: cfg.rerank_depth]
        if head:
            rows = self.store.chunks([item[1] for item in head])
        texts = {chunk_id: row.text for chunk_id, row in rows.items()}
        matrices = self.store.sentence_vectors(list(texts), len(vector)) if texts else {}
        heads = _Head.read(texts, matrices, [None, *parts], [vector, *part_vectors])
        if rows:
            scored = self._rerank(question, head, heads) + scored[cfg.rerank_depth :]
        lead = min(max(intent.mentions, cfg.spread_min), 4)
        start = 0
        if len(named) > 1 or lead > 1:
            scored, start = self._spread(scored, meta, intent, lead, heads)
        if cfg.cover_weight and len(intent.claims) > 1 and texts:
            matches = self._claim_matches(intent.claims, heads)
            scored = self._cover(scored, start, top, matches)
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
        # the re-ranked head was read already; only chunks ranked below it are read here
        chunks = {p[1]: rows[p[1]] for p in picked if p[1] in rows}
        chunks.update(self.store.chunks([p[1] for p in picked if p[1] not in rows]))
        articles = self.store.articles(c.article_id for c in chunks.values())
        unread = [p[1] for p in picked if p[1] not in heads.sentences]
        later = self.store.sentence_vectors(unread, len(vector)) if unread else {}
        passages: list[Passage] = []
        for score, chunk_id, d, lex in picked:
            chunk = chunks.get(chunk_id)
            if chunk is None or chunk.article_id not in articles:
                continue
            article = articles[chunk.article_id]
            cosines = heads.sentences.get(chunk_id)
            if cosines is None and chunk_id in later:
                cosines = later[chunk_id] @ vector
            passages.append(
                Passage(
                    chunk_id,
                    article,
                    chunk.text,
                    score,
                    d,
                    lex,
                    tuple(cosines.tolist()) if cosines is not None else (),
                )
            )
        return passages

    def _rerank(
        self,
        question: str,
        head: list[tuple[float, int, float, float]],
        heads: _Head,
    ) -> list[tuple[float, int, float, float]]:
        """Re-score the leading chunks by their best sentence.

        Facts are reported one sentence at a time, so the chunk that holds the answer is the one
        with a sentence that shares the question's rarer words (and its word pairs: questions
        paraphrase their source closely) and whose own vector is close to the question's. A
        chunk whose second-best sentence matches as well is usually a general overview rather
        than the specific report, hence the (negative) `second_sentence_weight`.
        """
        cfg = self.config
        weights, total = self._stem_weights(question)
        sequence = [stem(w) for w in words(question) if w not in STOPWORDS]
        pair_weights = {
            (a, b): weights.get(a, 0.0) + weights.get(b, 0.0) for a, b in pairwise(sequence)
        }
        pair_total = sum(pair_weights.values()) or 1.0
        rescored = []
        for score, chunk_id, d, lex in head:
            sentences = _sentences(heads.texts.get(chunk_id, ""))
            shares = sorted(sentences.shares(weights, total), reverse=True)
            pair_shares = sentences.shares(pair_weights, pair_total, pairs=True)
            closest = heads.closest(chunk_id)
            score += (
                cfg.sentence_weight * (shares[0] if shares else 0.0)
                + cfg.second_sentence_weight * (shares[1] if len(shares) > 1 else 0.0)
                + cfg.pair_weight * max(pair_shares, default=0.0)
                + cfg.sentence_dense_weight * closest
            )
            rescored.append((score, chunk_id, d, lex))
        return sorted(rescored, reverse=True)

    def _spread(
        self,
        scored: list[tuple[float, int, float, float]],
        meta: dict[int, tuple[str, str | None, datetime | None]],
        intent: QueryIntent,
        lead: int,
        heads: _Head,
    ) -> tuple[list[tuple[float, int, float, float]], int]:
        """Lead with one article per outlet mention, then other articles up to `lead`.

        "Did the TechCrunch report say A, while The Verge says B?" wants TechCrunch's A and
        The Verge's B near the top, not five chunks of one article: for each mention, the best
        chunk of that outlet, preferring the one whose best sentence matches that part of the
        question and not the others' (a TechCrunch chunk matching B is usually not TechCrunch's
        report that A: B is what The Verge said), and whose closest sentence vector is close to
        that part's own vector.
        """
        cfg = self.config
        clauses = intent.clauses
        weight = cfg.clause_weight
        chosen: list[tuple[float, int, float, float]] = []
        articles: set[str] = set()
        other_weight = cfg.other_clause_weight
        clause_terms = [self._stem_weights(clause) for clause, _ in clauses]
        for k, (clause, sources) in enumerate(clauses):
            terms, total = clause_terms[k]
            # words only the other mentions' parts use: what the other outlets reported
            elsewhere = {
                t: w
                for j, (other, _) in enumerate(clause_terms)
                if j != k
                for t, w in other.items()
                if t not in terms
            }
            elsewhere_total = sum(elsewhere.values()) or 1.0
            days = intent.days_in(clause)
            best: tuple[float, tuple[float, int, float, float]] | None = None
            for item in scored[: 2 * max(cfg.rerank_depth, 1)]:
                article_id, source, published = meta[item[1]]
                if source not in sources or article_id in articles:
                    continue
                share = 0.0
                if weight and item[1] in heads.texts:
                    sentences = _sentences(heads.texts[item[1]])
                    share = max(sentences.shares(terms, total), default=0.0)
                    if other_weight and elsewhere:
                        share -= other_weight * max(
                            sentences.shares(elsewhere, elsewhere_total), default=0.0
                        )
                value = item[0] + weight * share
                value += cfg.clause_dense_weight * heads.closest(item[1], clause)
                if published is not None and published.date() in days:
                    value += cfg.clause_date_bonus
                if best is None or value > best[0]:
                    best = (value, item)
            if best is not None:
                chosen.append(best[1])
                articles.add(meta[best[1][1]][0])
        for item in scored:
            if len(chosen) >= lead:
                break
            if meta[item[1]][0] not in articles:
                articles.add(meta[item[1]][0])
                chosen.append(item)
        chosen.sort(reverse=True)
        ids = {item[1] for item in chosen}
        return chosen + [item for item in scored if item[1] not in ids], len(chosen)

    def _cover(
        self,
        scored: list[tuple[float, int, float, float]],
        start: int,
        top: int,
        matches: dict[int, list[float]],
    ) -> list[tuple[float, int, float, float]]:
        """Below the first `start`, fill the top with what the chunks above have not said yet.

        A many-part question ("Which company, sued by X, that also Y?") has its evidence in
        several reports; the fifth chunk of the article already at the top rarely adds any. Each
        re-ranked chunk gains `cover_weight` x how much better its best sentence matches each of
        the question's claims than every chunk ranked above it did.
        """
        covered = [0.0] * len(next(iter(matches.values())))
        for item in scored[:start]:
            covered = list(map(max, covered, matches.get(item[1], covered)))
        ranked = scored[:start]
        pool = [item for item in scored[start:] if item[1] in matches]
        weight = self.config.cover_weight
        while pool and len(ranked) < top:
            best = max(
                pool,
                key=lambda item: item[0] + weight * _gain(matches[item[1]], covered),
            )
            pool.remove(best)
            ranked.append(best)
            covered = list(map(max, covered, matches[best[1]]))
        ids = {item[1] for item in ranked}
        return ranked + [item for item in scored if item[1] not in ids]

    def _claim_matches(self, claims: tuple[str, ...], heads: _Head) -> dict[int, list[float]]:
        """Per re-ranked chunk, how well its sentences match each claim of the question: the
        best share of the claim's words plus `claim_dense_weight` x the closest sentence
        vector to the claim's own vector."""
        weights = [self._stem_weights(claim) for claim in claims]
        dense = self.config.claim_dense_weight
        matches = {}
        for chunk_id, text in heads.texts.items():
            sentences = _sentences(text)
            matches[chunk_id] = [
                max(sentences.shares(w, t), default=0.0) + dense * heads.closest(chunk_id, claim)
                for (w, t), claim in zip(weights, claims, strict=True)
            ]
        return matches

    def evidence(self, intent: QueryIntent, passages: list[Passage]) -> Evidence:
        """How well the best passages answer the question, as the refusal model reads it."""
        top = passages[:3]
        weights = self.term_weights(list(intent.terms))
        unknown = {t for t in weights if self._df_cache.get(t, 1) == 0}
        known = {t: w for t, w in weights.items() if t not in unknown}
        total = sum(known.values()) or 1.0
        coverage = 0.0
        for passage in top:
            present = {stem(w) for w in words(passage.article.title + " " + passage.text)}
            share = sum(w for t, w in known.items() if stem(t) in present) / total
            coverage = max(coverage, share)
        absent_name = False
        if top:
            lead = {stem(w) for w in words(top[0].article.title + " " + top[0].text)}
            for name in intent.names:
                if self.mentions(name) == 0 and not {stem(w) for w in words(name)} <= lead:
                    absent_name = True
        tokens = words(intent.text)
        pairs = [
            (a, b)
            for a, b in pairwise(tokens)
            if a in known and b in known and a not in STOPWORDS and b not in STOPWORDS
        ]
        pair_weight = sum(known[a] + known[b] for a, b in pairs) or 1.0
        unseen = sum(known[a] + known[b] for a, b in pairs if self.mentions(f"{a} {b}") == 0)
        # a word no article uses says "not covered" when it is a rare one ("zepbound"), not
        # everyday English, and more so the more articles there are to have used it
        rare = [t for t in unknown if not (t.isalpha() and self.common_word(t))]
        missing = len(rare) / max(len(weights), 1) * self._size_factor()
        return Evidence(
            dense=max((p.dense for p in top), default=0.0),
            sentence=max((max(p.sentence_cosines, default=0.0) for p in top), default=0.0),
            coverage=coverage,
            missing=missing,
            unknown_outlet=bool(intent.unknown_sources),
            absent_name=absent_name,
            unseen_pairs=unseen / pair_weight,
        )

    def _size_factor(self) -> float:
        """0..1: how much the absence of a word from the index means (little in a small one)."""
        if self._chunk_count is None:
            self._chunk_count = self.store.chunk_count()
        scale = self.config.missing_scale_chunks
        return min(1.0, math.log1p(self._chunk_count) / math.log1p(scale))

    def unknown_words(self, intent: QueryIntent) -> bool:
        """True when the question is made of words no article uses and no dictionary has
        ("asdfgh"): there is nothing to search for."""
        weights = self.term_weights(list(intent.terms))
        return bool(weights) and all(
            self._df_cache.get(t, 1) == 0 and not self.common_word(t) for t in weights
        )

    def abstain(
        self, intent: QueryIntent, passages: list[Passage], confidence: float = 0.5
    ) -> bool:
        """True when nothing found answers the question well enough to cite: the calibrated
        refusal model (`RetrievalConfig.refusal` over `evidence`) gives it less than
        `confidence`."""
        if not passages or not intent.terms:
            return True
        return self.evidence(intent, passages).answerable(self.config.refusal) < confidence

    def mentions(self, name: str) -> int:
        """How many chunks mention a name as a phrase (FTS5 applies the same tokenizer)."""
        self._caches()
        phrase = '"' + " ".join(words(name)) + '"'
        if phrase not in self._df_cache:
            count = self.store.matching_chunks(phrase)
            self._df_cache[phrase] = -1 if count is None else count
        return self._df_cache[phrase]

    def _bm25(self, terms: tuple[str, ...]) -> dict[int, float]:
        """BM25 of the best `lexical_pool` chunks matching any query term.

        One query serves the global ranking and each named outlet's; filtering in SQL (a
        `rowid IN (...)` beside MATCH) is a hundred times slower than filtering here.
        """
        return self.store.bm25(terms, self.config.title_weight, self.config.lexical_pool)

    def _stem_weights(self, text: str) -> tuple[dict[str, float], float]:
        """IDF weight of each query term of `text`, keyed by its stem, and their sum."""
        weights = {stem(t): w for t, w in self.term_weights(query_terms(text)).items()}
        return weights, sum(weights.values()) or 1.0

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        """IDF of each query term over the chunk collection (FTS5 applies the same stemming)."""
        self._caches()
        total = self.store.chunk_count() or 1
        weights: dict[str, float] = {}
        for term in terms:
            if term not in self._df_cache:
                count = self.store.matching_chunks(f'text:"{term}"')
                self._df_cache[term] = count or 0
            df = self._df_cache[term]
            weights[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return weights


@dataclass
class _Head:
    """The re-ranked chunks' texts, and how close each one's closest sentence vector comes to
    the question and to each part of it."""

    texts: dict[int, str]
    best: dict[int, np.ndarray]  # chunk id -> max cosine per probe
    columns: dict[str | None, int]  # a part of the question (None: all of it) -> its column
    sentences: dict[int, np.ndarray]  # chunk id -> each sentence's cosine to the question

    @classmethod
    def read(
        cls,
        texts: dict[int, str],
        matrices: dict[int, np.ndarray],
        keys: list[str | None],
        probes: list[np.ndarray],
    ) -> _Head:
        # one small product per chunk: a single large one would wake BLAS threads that then
        # spin against the model's threads on the next question
        probe_matrix = np.ascontiguousarray(np.stack(probes).T)
        products = {i: matrices[i] @ probe_matrix for i in texts if i in matrices}
        best = {i: p.max(axis=0) for i, p in products.items() if len(p)}
        sentences = {i: p[:, 0] for i, p in products.items()}
        return cls(texts, best, {key: k for k, key in enumerate(keys)}, sentences)

    def closest(self, chunk_id: int, part: str | None = None) -> float:
        """Cosine of the chunk's sentence closest to the question, or to one `part` of it (0
        when the chunk has no sentence vectors stored)."""
        row = self.best.get(chunk_id)
        return float(row[self.columns[part]]) if row is not None else 0.0


@dataclass(frozen=True)
class Evidence:
    """What says a question is answered by the passages found: the features of the refusal
    model, each one a reason a reader would give."""

    dense: float  # the best passage's cosine to the question
    sentence: float  # the best sentence's cosine to the question
    coverage: float  # share of the question's known (IDF-weighted) words in a top passage
    missing: float  # share of the question's rare words that no article contains
    unknown_outlet: bool  # names an outlet the index does not have ("according to Bloomberg")
    absent_name: bool  # names someone no article mentions
    unseen_pairs: float  # share of the question's adjacent word pairs no article has together

    def features(self) -> tuple[float, ...]:
        return (
            self.dense,
            self.sentence,
            self.coverage,
            self.missing,
            float(self.unknown_outlet),
            float(self.absent_name),
            self.unseen_pairs,
        )

    def answerable(self, weights: tuple[float, ...]) -> float:
        """Probability that the passages answer the question (logistic model)."""
        z = weights[-1] + sum(w * f for w, f in zip(weights, self.features(), strict=False))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def _gain(match: list[float], covered: list[float]) -> float:
    """How much better a chunk matches the question's claims than the chunks above it did."""
    return sum(max(m - c, 0.0) for m, c in zip(match, covered, strict=True))


def _top(scores: dict[int, float], k: int) -> dict[int, float]:
    return dict(heapq.nlargest(k, scores.items(), key=lambda item: item[1]))


@dataclass(frozen=True)
class _Sentences:
    """Where each stemmed content word and adjacent word pair occurs among a chunk's sentences."""

    count: int
    terms: dict[str, tuple[int, ...]]
    pairs: dict[tuple[str, str], tuple[int, ...]]

    def shares(self, weights: dict, total: float, pairs: bool = False) -> list[float]:
        """Per sentence, the share of `weights` (of terms or of pairs) it contains."""
        out = [0.0] * self.count
        where = self.pairs if pairs else self.terms
        for key, weight in weights.items():
            for k in where.get(key, ()):
                out[k] += weight / total
        return out


@lru_cache(maxsize=4096)
def _sentences(text: str) -> _Sentences:
    """Index a chunk's sentences (a pure function of its text, cached: the same popular chunks
    are re-ranked question after question)."""
    terms: dict[str, set[int]] = {}
    pairs: dict[tuple[str, str], set[int]] = {}
    sentences = passage_sentences(text)
    for k, sentence in enumerate(sentences):
        sequence = [stem(w) for w in words(sentence) if w not in STOPWORDS]
        for term in sequence:
            terms.setdefault(term, set()).add(k)
        for pair in pairwise(sequence):
            pairs.setdefault(pair, set()).add(k)
    return _Sentences(
        len(sentences),
        {t: tuple(ks) for t, ks in terms.items()},
        {p: tuple(ks) for p, ks in pairs.items()},
    )
