"""The background warm-up: after a start or an ingest, the first questions find the common
words' BM25 postings and the newest passages' sentences already read, and get the same
answers they would have got cold."""

from __future__ import annotations

import gc

import pytest
from test_ranking import long_article

from index import NewsIndex
from index.search.sentences import sentence_index
from index.store import Store

QUESTION = "Why does the bridge stay closed until spring?"


def herald(i: int, fact: str) -> object:
    return long_article(f"Bridge story {i}", "Coast Herald", f"https://h.example/{i}", fact,
                        "bridge", 2 + i)  # fmt: skip


def test_the_warm_up_reads_ahead_and_changes_no_answer(
    news_index: NewsIndex, data_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fact = "The bridge stays closed until spring because of cracked cables."
    news_index.ingest([herald(0, fact), herald(1, "The ferry runs twice an hour.")])
    cold = news_index.answer(QUESTION)
    assert fact in " ".join(cold.citations[0].quotes)

    again = NewsIndex(news_index.data_dir, embedder=news_index.ingest_embedder,
                      questions=news_index.questions)  # fmt: skip
    again.warmer.nudge()
    warmed = again.warmer.wait(60)
    assert warmed is not None and warmed.generation == again.generation
    assert warmed.words > 10 and warmed.chunks == again.stats().chunks
    # what it read is long-lived: out of the cyclic collector's full passes (`gc.freeze`)
    described = sentence_index(again.store.newest_chunk_texts(1)[0])
    assert all(o is not described for o in gc.get_objects())

    reads: list[str] = []
    term_bm25 = Store.term_bm25
    monkeypatch.setattr(Store, "term_bm25", lambda s, t, *a: reads.append(t) or term_bm25(s, t, *a))
    assert again.answer(QUESTION) == cold
    # the question's common words ("bridge", "spring" ...) were read before it was asked
    assert "bridge" not in reads and "closed" not in reads


def test_each_new_generation_is_warmed_once(news_index: NewsIndex) -> None:
    news_index.ingest([herald(0, "The bridge reopened on Monday.")])
    news_index.warmer.nudge()
    first = news_index.warmer.wait(60)
    assert first is not None and first.generation == news_index.generation
    news_index.warmer.nudge()  # nothing new: no second warm-up
    assert news_index.warmer.wait(60) is first
    news_index.ingest([herald(1, "The ferry adds a night crossing.")])
    news_index.warmer.nudge()
    second = news_index.warmer.wait(60)
    assert second is not None and second.generation == news_index.generation > first.generation


def test_an_updated_article_is_quoted_from_its_new_text(news_index: NewsIndex) -> None:
    """Quoting keeps the sentences of the articles it has read; an article updated under the
    same address is a new generation of the index and is quoted as it now reads."""
    before = "The bridge stays closed until spring because of cracked cables."
    news_index.ingest([herald(0, before), herald(1, "The ferry runs twice an hour.")])
    assert before in " ".join(news_index.answer(QUESTION).citations[0].quotes)
    after = "The bridge stays closed until spring because its deck is being replaced."
    news_index.ingest([herald(0, after)])
    quotes = " ".join(news_index.answer(QUESTION).citations[0].quotes)
    assert after in quotes and before not in quotes
