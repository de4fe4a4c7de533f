"""Choosing what goes into a digest: new articles, on a topic or the day's biggest stories.

The same story from several outlets appears once ("also reported by"). With a topic, the
articles must really match it (the question retrieval and its relevance threshold), so a quiet
day never fills the digest with unrelated news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from index.answer import Outlet, best_sentences, on_topic, similar
from index.search import Filters
from index.service import NewsIndex
from index.store import ArticleRow
from index.text import query_terms

SAME_STORY_COSINE = 0.8


@dataclass(frozen=True)
class DigestItem:
    """One story: its best article, a one-line summary and the other outlets that carried it."""

    article: ArticleRow
    line: str
    also: tuple[Outlet, ...] = ()


def new_article_ids(index: NewsIndex, since: datetime, until: datetime) -> list[str]:
    """Articles that arrived in the window: ingested in it, or published in it."""
    return index.store.arrived_between(since, until)


def select_digest(
    index: NewsIndex,
    since: datetime,
    until: datetime,
    topic: str | None = None,
    max_items: int = 8,
) -> list[DigestItem]:
    """The digest for one subscription window, best story first."""
    ids = new_article_ids(index, since, until)
    if not ids:
        return []
    if topic:
        intent = index.parse(topic)
        answer = index.answer(
            intent, top=max_items * 3, filters=Filters(article_ids=tuple(ids)), refuse=False
        )
        weights = index.searcher.weights(intent)
        matching = [c for c in answer.citations if on_topic(c, weights)]
        rows = index.store.articles(c.article_id for c in matching)
        lines = {c.article_id: " ".join(c.quotes) for c in matching}
        ranked = [rows[c.article_id] for c in matching if c.article_id in rows]
        groups = _group_stories(index, ranked)
    else:
        rows = index.store.articles(ids)
        ranked = [rows[i] for i in ids if i in rows]
        groups = _group_stories(index, ranked)
        # biggest stories (most outlets) first, then newest
        groups.sort(key=lambda g: len({a.source for a in g}), reverse=True)
        lines = {}
    items: list[DigestItem] = []
    for group in groups[:max_items]:
        lead = group[0]
        line = (
            lead.highlights[0] if lead.highlights else lines.get(lead.id) or _lead_line(index, lead)
        )
        also = tuple(Outlet(a.title, a.source, a.url, a.published_at) for a in group[1:])
        items.append(DigestItem(lead, line, also))
    return items


def _lead_line(index: NewsIndex, article: ArticleRow) -> str:
    """The article's best sentence for its own title (what the story is about)."""
    chunk = index.store.first_chunk(article.id)
    if chunk is None:
        return ""
    weights = dict.fromkeys(query_terms(article.title), 1.0)
    quotes = best_sentences(chunk.text, weights, limit=1)
    return quotes[0] if quotes else ""


def _group_stories(index: NewsIndex, articles: list[ArticleRow]) -> list[list[ArticleRow]]:
    """Cluster articles that tell the same story (close first-passage vectors or titles)."""
    vectors = _first_chunk_vectors(index, [a.id for a in articles])
    groups: list[list[ArticleRow]] = []
    heads: list[np.ndarray | None] = []
    for article in articles:
        vector = vectors.get(article.id)
        for group, head in zip(groups, heads, strict=True):
            close = head is not None and vector is not None
            if (close and float(np.dot(head, vector)) >= SAME_STORY_COSINE) or similar(
                group[0].title, article.title, 0.7
            ):
                group.append(article)
                break
        else:
            groups.append([article])
            heads.append(vector)
    return groups


def _first_chunk_vectors(index: NewsIndex, ids: list[str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    vectors = index.vectors()
    for article_id in ids:
        chunk = index.store.first_chunk(article_id)
        if chunk is None:
            continue
        vector = vectors.vector(chunk.id)
        if vector is not None:
            out[article_id] = vector
    return out
