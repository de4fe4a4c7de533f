"""BM25 summed from cached one-term scores ranks exactly as FTS5's own OR query does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corpus.loaders import load_path, sample_path
from corpus.models import Article
from index.chunking import chunk_article
from index.search.bm25 import TermScores
from index.store import Store
from index.text import query_terms


@pytest.fixture(scope="module")
def starter_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The starter corpus (40 articles) in an index's store, chunked by words (BM25 needs no
    model)."""
    articles: list[Article] = load_path(sample_path()).articles
    store = Store(tmp_path_factory.mktemp("bm25") / "news.sqlite")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with store.write() as conn:
        for article in articles:
            chunks = chunk_article(article, lambda texts: [len(t.split()) for t in texts], 120)
            Store.insert_article(conn, article, [c.text for c in chunks], now)
    return store


def questions(store: Store) -> list[list[str]]:
    titles = [row.title for row in store.latest(100)]
    asked = [query_terms(title) for title in titles]
    asked.append(query_terms("what did the government say about the new year plans"))
    asked.append(["israel", "said", "israel"])  # a term twice counts twice, as in FTS5
    return [terms for terms in asked if terms]


@pytest.mark.parametrize("limit", [5, 1000])
def test_summed_term_scores_rank_as_the_or_query(starter_store: Store, limit: int) -> None:
    scores = TermScores(starter_store)
    asked = questions(starter_store)
    assert len(asked) > 30
    for _ in range(2):  # the second time every term's scores come from the cache
        for terms in asked:
            expected = starter_store.bm25(terms, 0.5, limit)
            assert expected, terms
            assert list(scores(terms, 0.5, limit).items()) == list(expected.items()), terms


def test_a_term_too_common_to_keep_goes_to_the_or_query(starter_store: Store) -> None:
    scores = TermScores(starter_store, max_postings=3)
    for terms in questions(starter_store):
        expected = starter_store.bm25(terms, 1.0, 50)
        assert list(scores(terms, 1.0, 50).items()) == list(expected.items()), terms
    assert scores([], 1.0, 50) == {}
    assert scores(["zzzunheardofword"], 1.0, 50) == {}


def test_a_small_cache_drops_old_terms_and_ranks_the_same(starter_store: Store) -> None:
    scores = TermScores(starter_store, max_cached=50)
    for _ in range(2):
        for terms in questions(starter_store):
            expected = starter_store.bm25(terms, 0.5, 20)
            assert list(scores(terms, 0.5, 20).items()) == list(expected.items()), terms
