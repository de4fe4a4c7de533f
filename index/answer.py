"""Passages -> a format-neutral answer: citations grouped by article, or "no relevant reporting".

The CLI renders it as plain text or JSON, the bot as HTML; neither decides what is quoted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from index.chunking import passage_sentences
from index.quotes import QuoteWeights, best_sentences, pick_quotes
from index.search import Passage
from index.spelling import spelling_changes
from index.store import ArticleRow
from index.text import stem, word_stems, words


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

    @classmethod
    def of(
        cls,
        article: ArticleRow,
        quotes: tuple[str, ...],
        score: float,
        passage: str,
        cosines: tuple[float, ...] = (),
    ) -> Citation:
        """`article` cited with these quotes."""
        return cls(
            article_id=article.id,
            title=article.title,
            source=article.source,
            published_at=article.published_at,
            url=article.url,
            quotes=quotes,
            score=score,
            passage=passage,
            cosines=cosines,
        )

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
    headlines: bool = False  # the citations are the newest reporting, no topic asked
    searched: str = ""  # the question as searched, misspellings corrected ("" if as asked)

    @property
    def found(self) -> bool:
        return bool(self.citations) and not self.abstained

    @property
    def read_as(self) -> str | None:
        """The words searched for otherwise than typed: the reader sees what a correction
        made of a typo, or of a name the index does not know ("potm" read as "poem")."""
        changed = spelling_changes(self.question, self.searched) if self.searched else ()
        return "Read " + ", ".join(f"“{a}” as “{b}”" for a, b in changed) + "." if changed else None

    @property
    def note(self) -> str | None:
        """Lines for the reader above the citations (or the refusal), when the answer needs
        them: the words read otherwise than typed, and why these citations."""
        lines = [self.read_as]
        if self.headlines and self.found:
            lines.append(
                f"The newest reporting I have{f' from {self.period}' if self.period else ''}:"
            )
        elif self.period and self.found:
            dates = [c.published_at for c in self.citations if c.published_at]
            newest = f" (the newest is from {max(dates):%-d %b %Y})" if dates else ""
            lines.append(
                f"Nothing from {self.period} on this. The closest reporting I have{newest}:"
            )
        return "\n".join(line for line in lines if line) or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "note": self.note,
            "hint": self.hint,
            "timeline": self.timeline,
            "headlines": self.headlines,
            "citations": [c.to_dict() for c in self.citations],
        }


# Articles are cited in the order of their best passage's score plus this times the cosine of
# their sentence closest to the question: of several reports on one story, the one that says
# what was asked comes first (`newsbot eval questions`, everyday set: right article first
# .870 -> .913 on the dev half, .877 -> .906 held out; the weight chosen on the dev half).
BEST_SENTENCE_WEIGHT = 2.0
# The article cited first quotes its three likeliest sentences, the others two: the best
# sentence holds the answer in about half the cases, the best two in two thirds, three in 70%
# (benchmarks/tune_quotes.py); the lead article is the one read.
LEAD_QUOTES = 3
QUOTES = 2
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

    Articles are ordered by their best passage's score plus `BEST_SENTENCE_WEIGHT` x the cosine
    of their sentence closest to the question. Passages scoring below `relative_floor` times
    the best one are dropped unless `relevant` says they answer the question on their own: the
    third article cited should still be about the question, not whatever came next. Reports of
    one story by several outlets become one citation ("also reported by") when `merge`. The
    first `max_articles` quote from the whole article when `article_sentences` can read it (the
    answer is often a sentence away from the passage that matched best), any others from their
    best passage.
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
        quotes = pick_quotes(
            sentences, weights, cosines=cosines, kind=kind, limit=LEAD_QUOTES, tuning=tuning
        )
        score = top.score + BEST_SENTENCE_WEIGHT * max(cosines, default=0.0)
        citations.append(Citation.of(article, quotes, score, top.text, top.sentence_cosines))
    citations.sort(key=lambda c: -c.score)
    citations[1:] = [replace(c, quotes=c.quotes[:QUOTES]) for c in citations[1:]]
    merged = merge_same_story(citations) if merge else citations
    return Answer(question, tuple(merged[:max_articles]), abstained=not merged)


def coverage(text: str, weights: dict[str, float]) -> float:
    """Share of the question's (IDF-weighted) words that the text contains."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = word_stems(text)
    return sum(w for term, w in weights.items() if stem(term) in present) / total


TOPIC_COVERAGE = 0.6


def on_topic(citation: Citation, weights: dict[str, float]) -> bool:
    """A topic works like a keyword alert: most of its (IDF-weighted) words are in the
    article's title or its matching passage."""
    return coverage(citation.title + " " + citation.passage, weights) >= TOPIC_COVERAGE


@lru_cache(maxsize=4096)
def _word_set(text: str) -> frozenset[str]:
    """(Cached: each citation is compared with every one kept before it.)"""
    return frozenset(stem(w) for w in words(text) if len(w) > 2)


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
