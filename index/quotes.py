"""Choosing the sentence(s) of an article to quote: the question's words and word pairs, the
sentence's vector, the kind of answer asked for; page furniture never."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from corpus.clean import is_boilerplate
from index.chunking import passage_sentences
from index.text import STOPWORDS, stem, words


@dataclass(frozen=True)
class QuoteWeights:
    """How a sentence is chosen as the quote: `words` x the share of the question's
    IDF-weighted words it holds, `pairs` x the share of the question's adjacent word pairs,
    `vector` x its own vector's cosine to the question, `kind` when it holds the kind of thing
    asked for (a number for "how many", a date for "when", a name for "who"). A neighbour joins
    it when it adds at least `neighbour_gain` of the question's words that it lacks."""

    words: float = 1.0
    pairs: float = 0.0
    vector: float = 1.0
    kind: float = 0.3
    neighbour_gain: float = 0.2
    short_penalty: float = 0.3  # a sentence of fewer than 5 words is rarely the answer
    local: float = 1.0  # how much a word's rarity among the candidate sentences counts
    runner_up: float = 0.8  # the second-best sentence is quoted too when it scores this close


_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|half|twice)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
    r"tonight|ago|earlier this|last (?:week|month|year|night)|next (?:week|month|year))\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def holds_kind(sentence: str, kind: str | None, question_words: set[str]) -> bool:
    """Whether a sentence holds the kind of answer asked for."""
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind in ("person", "place"):
        names = {m.group(0).lower() for m in _CAPITALISED.finditer(sentence)}
        return bool(names - question_words - STOPWORDS)
    return False


def pick_quotes(
    sentences: list[str],
    weights: dict[str, float],
    *,
    cosines: tuple[float, ...] | list[float] = (),
    kind: str | None = None,
    limit: int = 2,
    tuning: QuoteWeights | None = None,
) -> tuple[str, ...]:
    """The sentence(s) that answer the question, in the article's order.

    A sentence scores by the question's (IDF-weighted) words and word pairs it holds, by its
    vector's closeness to the question (when `cosines` gives one per sentence) and by holding
    the `kind` of answer asked for. Page boilerplate is never quoted. The sentence before or
    after joins it when the answer spans two (it adds question words the first lacks).
    """
    tuning = tuning or QuoteWeights()
    if not sentences:
        return ()
    stems: dict[str, float] = {}
    for term, weight in weights.items():
        key = stem(term)
        stems[key] = max(stems.get(key, 0.0), weight)
    total = sum(stems.values()) or 1.0
    order = [stem(t) for t in weights]
    pair_weights = {(a, b): stems[a] + stems[b] for a, b in pairwise(order)}
    pair_total = sum(pair_weights.values()) or 1.0
    use_cosines = len(cosines) == len(sentences)
    asked = set(weights)

    sequences = [_content_stems(sentence) for sentence in sentences]
    covers = [{s for s in sequence if s in stems} for sequence in sequences]
    if tuning.local:
        # the words that pick the article (in most of its sentences) say little about which
        # sentence answers; those that few of its sentences hold say much
        n = len(sentences)
        spread = {s: sum(s in cover for cover in covers) for s in stems}
        stems = {s: w * math.log(1 + n / (1 + spread[s])) ** tuning.local for s, w in stems.items()}
        total = sum(stems.values()) or 1.0
        pair_weights = {(a, b): stems[a] + stems[b] for a, b in pair_weights}
        pair_total = sum(pair_weights.values()) or 1.0
    scores: list[float] = []
    for k, sentence in enumerate(sentences):
        sequence, cover = sequences[k], covers[k]
        pairs = {pair for pair in pairwise(sequence) if pair in pair_weights}
        score = tuning.words * sum(stems[s] for s in cover) / total
        score += tuning.pairs * sum(pair_weights[p] for p in pairs) / pair_total
        if use_cosines:
            score += tuning.vector * cosines[k]
        if kind and holds_kind(sentence, kind, asked):
            score += tuning.kind
        if len(sequence) < 3 and len(sentence.split()) < 5:
            score -= tuning.short_penalty
        scores.append(score)
    # page furniture is never quoted (bodies are cleaned at ingest; this catches the rest)
    ranked = [
        i
        for i in sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:QUOTE_CANDIDATES]
        if not _furniture(sentences[i])
    ]
    if not ranked:
        return ()
    best = ranked[0]
    if limit < 2:
        return (sentences[best],)
    gains = {
        j: sum(stems[s] for s in covers[j] - covers[best]) / total
        for j in (best - 1, best + 1)
        if 0 <= j < len(sentences) and not _furniture(sentences[j])
    }
    neighbour = max(gains, key=lambda k: gains[k], default=None)
    if neighbour is not None and gains[neighbour] >= tuning.neighbour_gain:
        # the answer spans two sentences: quote them as the article has them
        return tuple(sentences[i] for i in sorted((best, neighbour)))
    runner = ranked[1] if len(ranked) > 1 else None
    if runner is not None and scores[runner] >= tuning.runner_up * scores[best] > 0:
        return (sentences[best], sentences[runner])  # best first
    return (sentences[best],)


QUOTE_CANDIDATES = 8  # the best-scoring sentences looked at for a quote


@lru_cache(maxsize=65536)
def _content_stems(sentence: str) -> tuple[str, ...]:
    """The stems of a sentence's content words, in order (cached: popular articles come back
    question after question)."""
    return tuple(stem(w) for w in words(sentence) if w not in STOPWORDS)


@lru_cache(maxsize=65536)
def _furniture(sentence: str) -> bool:
    return is_boilerplate(sentence)


def best_sentences(
    passage: str,
    weights: dict[str, float],
    limit: int = 2,
    cosines: tuple[float, ...] = (),
    tuning: QuoteWeights | None = None,
) -> tuple[str, ...]:
    """`pick_quotes` over one passage's sentences."""
    return pick_quotes(
        list(passage_sentences(passage)), weights, cosines=cosines, limit=limit, tuning=tuning
    )
