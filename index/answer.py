"""Passages -> a format-neutral answer: citations grouped by article, or "no relevant reporting".

The CLI renders it as plain text or JSON, the bot as HTML; neither decides what is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from index.chunking import split_sentences
from index.search import Passage
from index.text import stem, words


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
    """The question and its citations, best first; `abstained` means no relevant reporting."""

    question: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False

    @property
    def found(self) -> bool:
        return bool(self.citations) and not self.abstained

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
        }


def best_sentences(passage: str, weights: dict[str, float], limit: int = 2) -> tuple[str, ...]:
    """The sentence(s) of a passage that share the most (IDF-weighted) words with the question.

    Two adjacent sentences are quoted together when the second adds question words the first
    lacks; quotes keep the article's order.
    """
    sentences = split_sentences(passage)
    if not sentences:
        return ()
    stems = {stem(t): w for t, w in weights.items()}

    def covered(sentence: str) -> set[str]:
        return {s for s in (stem(w) for w in words(sentence)) if s in stems}

    cover = [covered(s) for s in sentences]
    scores = [sum(stems[s] for s in c) for c in cover]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    chosen = [best]
    if limit > 1:
        gains = {
            j: sum(stems[s] for s in cover[j] - cover[best])
            for j in (best - 1, best + 1)
            if 0 <= j < len(sentences)
        }
        if gains:
            j = max(gains, key=lambda k: gains[k])
            if gains[j] > 0:
                chosen.append(j)
    return tuple(sentences[i] for i in sorted(chosen))


def build_answer(
    question: str,
    passages: list[Passage],
    weights: dict[str, float],
    *,
    max_articles: int = 5,
    relative_floor: float = 0.5,
) -> Answer:
    """Group passages by article (best passage first) and quote each article's best sentences.

    Passages scoring below `relative_floor` times the best one are dropped: the third article
    cited should still be about the question, not whatever came next.
    """
    floor = passages[0].score * relative_floor if passages and passages[0].score > 0 else 0.0
    by_article: dict[str, list[Passage]] = {}
    for passage in passages:
        if passage.score < floor:
            continue
        by_article.setdefault(passage.article.id, []).append(passage)
    citations: list[Citation] = []
    for group in by_article.values():
        top = group[0]
        quotes = best_sentences(top.text, weights)
        article = top.article
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
            )
        )
    citations.sort(key=lambda c: c.score, reverse=True)
    merged = merge_same_story(citations)
    return Answer(question, tuple(merged[:max_articles]), abstained=not merged)


def coverage(text: str, weights: dict[str, float]) -> float:
    """Share of the question's (IDF-weighted) words that the text contains."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = {stem(w) for w in words(text)}
    return sum(w for term, w in weights.items() if stem(term) in present) / total


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
