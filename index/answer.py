"""Passages -> a format-neutral answer: citations grouped by article, or "no relevant reporting".

The CLI renders it as plain text or JSON, the bot as HTML; neither decides what is quoted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

from corpus.clean import is_boilerplate
from index.chunking import passage_sentences
from index.search import Passage
from index.text import STOPWORDS, stem, words


@dataclass(frozen=True)
class Outlet:
    """Another outlet that reported the same thing as a citation."""

    title: str
    source: str | None
    url: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class Citation:
    """One article cited in an answer, with the sentence(s) that answer the question."""

    article_id: str
    title: str
    source: str | None
    published_at: datetime | None
    url: str | None
    quotes: tuple[str, ...]
    score: float
    passage: str
    also: tuple[Outlet, ...] = ()
    cosines: tuple[float, ...] = ()  # each passage sentence's cosine to the question

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "url": self.url,
            "quotes": list(self.quotes),
            "score": round(self.score, 4),
            "also_reported_by": [
                {
                    "title": o.title,
                    "source": o.source,
                    "url": o.url,
                    "published_at": o.published_at.isoformat() if o.published_at else None,
                }
                for o in self.also
            ],
        }


@dataclass(frozen=True)
class Answer:
    """The question and its citations, best first; `abstained` means no relevant reporting.

    `period` names the time the question asked about when nothing from then answered it and
    the citations are the newest reporting on the topic instead; `hint` replaces citations
    for a question there is nothing to search for (empty, or words no article uses).
    """

    question: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    period: str | None = None
    hint: str | None = None
    timeline: bool = False  # the citations are one story's reports in date order

    @property
    def found(self) -> bool:
        return bool(self.citations) and not self.abstained

    @property
    def note(self) -> str | None:
        """A line for the reader above the citations, when the answer needs one."""
        if self.period and self.found:
            dates = [c.published_at for c in self.citations if c.published_at]
            newest = f" (the newest is from {max(dates):%-d %b %Y})" if dates else ""
            return f"Nothing from {self.period} on this. The closest reporting I have{newest}:"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "note": self.note,
            "hint": self.hint,
            "timeline": self.timeline,
            "citations": [c.to_dict() for c in self.citations],
        }


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


WHOLE_ARTICLES = 3  # the first page of an answer quotes from the whole article
# article id -> its sentences in order (each once) and their cosines to the question
ArticleSentences = Callable[[list[str]], dict[str, tuple[list[str], list[float]]]]


def build_answer(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    *,
    max_articles: int = 5,
    relative_floor: float = 0.5,
    tuning: QuoteWeights | None = None,
    kind: str | None = None,
    article_sentences: ArticleSentences | None = None,
    relevant: Callable[[Passage], bool] | None = None,
    merge: bool = True,
) -> Answer:
    """Group passages by article (best passage first) and quote each article's best sentences.

    Passages scoring below `relative_floor` times the best one are dropped unless `relevant`
    says they answer the question on their own: the third article cited should still be about
    the question, not whatever came next. Reports of one story by several outlets become one
    citation ("also reported by") when `merge`. The first `WHOLE_ARTICLES` quote from the whole
    article when `article_sentences` can read it (the answer is often a sentence away from the
    passage that matched best), the others from their best passage.
    """
    floor = passages[0].score * relative_floor if passages and passages[0].score > 0 else 0.0
    by_article: dict[str, list[Passage]] = {}
    for passage in passages:
        first = passage.article.id not in by_article
        if passage.score < floor and not (first and relevant is not None and relevant(passage)):
            continue
        by_article.setdefault(passage.article.id, []).append(passage)
    tops = sorted((group[0] for group in by_article.values()), key=lambda p: -p.score)
    full = (
        article_sentences([p.article.id for p in tops[:max_articles]]) if article_sentences else {}
    )
    citations: list[Citation] = []
    for top in tops:
        article = top.article
        if article.id in full:
            sentences, cosines = full[article.id]
        else:
            sentences, cosines = list(passage_sentences(top.text)), list(top.sentence_cosines)
        quotes = pick_quotes(sentences, weights, cosines=cosines, kind=kind, tuning=tuning)
        citations.append(
            Citation(
                article_id=article.id,
                title=article.title,
                source=article.source,
                published_at=article.published_at,
                url=article.url,
                quotes=quotes,
                score=top.score,
                passage=top.text,
                cosines=top.sentence_cosines,
            )
        )
    merged = merge_same_story(citations) if merge else citations
    return Answer(question, tuple(merged[:max_articles]), abstained=not merged)


def coverage(text: str, weights: dict[str, float]) -> float:
    """Share of the question's (IDF-weighted) words that the text contains."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = {stem(w) for w in words(text)}
    return sum(w for term, w in weights.items() if stem(term) in present) / total


TOPIC_COVERAGE = 0.6


def on_topic(citation: Citation, weights: dict[str, float]) -> bool:
    """A topic works like a keyword alert: most of its (IDF-weighted) words are in the
    article's title or its matching passage."""
    return coverage(citation.title + " " + citation.passage, weights) >= TOPIC_COVERAGE


def _word_set(text: str) -> set[str]:
    return {stem(w) for w in words(text) if len(w) > 2}


def similar(a: str, b: str, threshold: float = 0.6) -> bool:
    """Word-overlap (Jaccard) similarity: the same story told by two outlets."""
    x, y = _word_set(a), _word_set(b)
    return bool(x and y) and len(x & y) / len(x | y) >= threshold


def merge_same_story(citations: list[Citation]) -> list[Citation]:
    """Fold citations from other outlets that quote the same thing into the best one."""
    kept: list[Citation] = []
    for citation in citations:
        for i, first in enumerate(kept):
            same_quote = similar(" ".join(first.quotes), " ".join(citation.quotes))
            if first.source != citation.source and (
                same_quote or similar(first.title, citation.title, 0.7)
            ):
                c = citation
                outlet = Outlet(c.title, c.source, c.url, c.published_at)
                kept[i] = replace(first, also=(*first.also, outlet))
                break
        else:
            kept.append(citation)
    return kept


def build_timeline(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    *,
    limit: int = 10,
    relative_floor: float = 0.6,
    tuning: QuoteWeights | None = None,
) -> Answer:
    """A story's reports in date order, one sentence each: what happened, when, who said it.

    The `limit` most relevant articles (each scoring at least `relative_floor` of the best) are
    kept, then ordered by publication date; each gets the one sentence that best matches the
    story.
    """
    answer = build_answer(
        question,
        passages,
        weights,
        max_articles=len(passages),
        relative_floor=relative_floor,
        tuning=tuning,
        merge=False,  # a timeline is one story: every report on it keeps its line
    )
    chosen = []
    for citation in answer.citations[:limit]:
        quote = best_sentences(
            citation.passage, weights, limit=1, cosines=citation.cosines, tuning=tuning
        )
        chosen.append(replace(citation, quotes=quote or citation.quotes[:1]))
    oldest = datetime.min
    chosen.sort(key=lambda c: c.published_at.replace(tzinfo=None) if c.published_at else oldest)
    return Answer(question, tuple(chosen), abstained=not chosen, timeline=True)
