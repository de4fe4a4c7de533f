"""Re-ranking the fused head: by its best sentence, then one article per outlet mention at the
lead, then what the chunks above have not said yet (the question's claims)."""

from __future__ import annotations

from itertools import pairwise

from index.chunking import passage_sentences
from index.kinds import kind_test
from index.query import QueryIntent
from index.search.caches import Generation
from index.search.config import ChunkMeta, RetrievalConfig, Scored
from index.search.sentences import Probes, sentence_index


def rerank(
    cfg: RetrievalConfig, gen: Generation, intent: QueryIntent, head: list[Scored], probes: Probes
) -> list[Scored]:
    """Re-score the leading chunks by their best sentence.

    Facts are reported one sentence at a time, so the chunk that holds the answer is the one
    with a sentence that shares the question's rarer words (and its word pairs: questions
    paraphrase their source closely) and whose own vector is close to the question's. A
    chunk whose second-best sentence matches as well is usually a general overview rather
    than the specific report, hence the (negative) `second_sentence_weight`.
    """
    scale = _rerank_scale(cfg, len(intent.terms))
    holds_kind = kind_test(intent.asks, set(intent.terms)) if intent.asks in _COUNTED else None
    kind_weight = cfg.kind_weight if holds_kind is not None else 0.0
    if not scale and not kind_weight:
        return head
    weights, total = gen.stem_weights(intent.text_terms)
    pair_weights = {
        (a, b): weights.get(a, 0.0) + weights.get(b, 0.0) for a, b in pairwise(intent.content_stems)
    }
    pair_total = sum(pair_weights.values()) or 1.0
    rescored = []
    for score, chunk_id, d, lex in head:
        sentences = sentence_index(probes.texts.get(chunk_id, ""))
        matched = sentences.shares(weights, total)
        if kind_weight and holds_kind is not None:
            texts = passage_sentences(probes.texts.get(chunk_id, ""))
            score += kind_weight * max(
                (m for m, text in zip(matched, texts, strict=True) if m and holds_kind(text)),
                default=0.0,
            )
        if not scale:
            rescored.append((score, chunk_id, d, lex))
            continue
        shares = sorted(matched, reverse=True)
        pair_shares = sentences.shares(pair_weights, pair_total, pairs=True)
        closest = probes.closest(chunk_id)
        score += scale * (
            cfg.sentence_weight * (shares[0] if shares else 0.0)
            + cfg.second_sentence_weight * (shares[1] if len(shares) > 1 else 0.0)
            + cfg.pair_weight * max(pair_shares, default=0.0)
            + cfg.sentence_dense_weight * closest
        )
        rescored.append((score, chunk_id, d, lex))
    return sorted(rescored, reverse=True)


_COUNTED = ("number", "money", "time")  # kinds a sentence holds or not; a name often is no answer


def _rerank_scale(cfg: RetrievalConfig, terms: int) -> float:
    """How much the best sentence counts, by the question's length: nothing up to
    `rerank_from_terms` words, fully from `rerank_full_terms`, in proportion between."""
    span = cfg.rerank_full_terms - cfg.rerank_from_terms
    if span <= 0:
        return 1.0 if terms >= cfg.rerank_full_terms else 0.0
    return min(1.0, max(0.0, (terms - cfg.rerank_from_terms) / span))


def spread(
    cfg: RetrievalConfig,
    gen: Generation,
    scored: list[Scored],
    meta: ChunkMeta,
    intent: QueryIntent,
    lead: int,
    probes: Probes,
) -> tuple[list[Scored], int]:
    """Lead with one article per outlet mention, then other articles up to `lead`.

    "Did the TechCrunch report say A, while The Verge says B?" wants TechCrunch's A and
    The Verge's B near the top, not five chunks of one article: for each mention, the best
    chunk of that outlet, preferring the one whose best sentence matches that part of the
    question and not the others' (a TechCrunch chunk matching B is usually not TechCrunch's
    report that A: B is what The Verge said), and whose closest sentence vector is close to
    that part's own vector.
    """
    clauses = intent.clauses
    weight = cfg.clause_weight
    chosen: list[Scored] = []
    articles: set[str] = set()
    other_weight = cfg.other_clause_weight
    clause_terms = [gen.stem_weights(intent.terms_of(clause)) for clause, _ in clauses]
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
        best: tuple[float, Scored] | None = None
        for item in scored[: 2 * max(cfg.rerank_depth, 1)]:
            article_id, source, published = meta[item[1]]
            if source not in sources or article_id in articles:
                continue
            share = 0.0
            if weight and item[1] in probes.texts:
                sentences = sentence_index(probes.texts[item[1]])
                share = max(sentences.shares(terms, total), default=0.0)
                if other_weight and elsewhere:
                    share -= other_weight * max(
                        sentences.shares(elsewhere, elsewhere_total), default=0.0
                    )
            value = item[0] + weight * share
            value += cfg.clause_dense_weight * probes.closest(item[1], clause)
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


def claim_matches(
    cfg: RetrievalConfig, gen: Generation, intent: QueryIntent, probes: Probes
) -> dict[int, list[float]]:
    """Per re-ranked chunk, how well its sentences match each claim of the question: the
    best share of the claim's words plus `claim_dense_weight` x the closest sentence
    vector to the claim's own vector."""
    claims = intent.claims
    weights = [gen.stem_weights(intent.terms_of(claim)) for claim in claims]
    dense = cfg.claim_dense_weight
    matches = {}
    for chunk_id, text in probes.texts.items():
        sentences = sentence_index(text)
        matches[chunk_id] = [
            max(sentences.shares(w, t), default=0.0) + dense * probes.closest(chunk_id, claim)
            for (w, t), claim in zip(weights, claims, strict=True)
        ]
    return matches


def cover(
    cfg: RetrievalConfig,
    scored: list[Scored],
    start: int,
    top: int,
    matches: dict[int, list[float]],
) -> list[Scored]:
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
    weight = cfg.cover_weight
    while pool and len(ranked) < top:
        best = max(pool, key=lambda item: item[0] + weight * _gain(matches[item[1]], covered))
        pool.remove(best)
        ranked.append(best)
        covered = list(map(max, covered, matches[best[1]]))
    ids = {item[1] for item in ranked}
    return ranked + [item for item in scored if item[1] not in ids]


def _gain(match: list[float], covered: list[float]) -> float:
    """How much better a chunk matches the question's claims than the chunks above it did."""
    return sum(max(m - c, 0.0) for m, c in zip(match, covered, strict=True))
