"""Ingest and ask with the real model, FAISS and SQLite in a temporary data directory; the
tests on `news_index` run again with vectors and BM25 on Milvus (milvus-lite), and with those
and the articles on PostgreSQL (several machines' setup)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKENDS, backend_index

from corpus.models import Article
from index import NewsIndex, NewsIndexError
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder
from index.search import Filters

QUESTION = "Where did Turkey and Israel hold their talks?"


@pytest.fixture(params=BACKENDS)
def news_index(
    request: pytest.FixtureRequest,
    data_dir: Path,
    embedder: Embedder,
    questions: OnnxQuestionEncoder,
) -> Iterator[NewsIndex]:
    """An empty index on each backend: FAISS files + FTS5, or Milvus (vectors and BM25) with
    the articles in SQLite or on PostgreSQL."""
    with backend_index(request.param, data_dir, embedder, questions) as index:
        yield index


def filler_articles(count: int, prefix: str = "Filler") -> list[Article]:
    return [
        Article(
            title=f"{prefix} story {i} about a regional football league",
            body=" ".join(
                f"Team {i} played match {j} in the regional league and the coach praised the "
                f"defence after a {j}-{i % 3} result."
                for j in range(40)
            ),
            source="Sports Daily",
            url=f"https://sports.example/{prefix.lower()}/{i}",
            published_at=f"2023-10-{1 + i % 28:02d}T10:00:00Z",
        )
        for i in range(count)
    ]


def test_seed_question_is_answered_with_azerbaijan(
    news_index: NewsIndex, seed_article: Article
) -> None:
    report = news_index.ingest([seed_article, *filler_articles(5)])
    assert report.new == 6 and report.chunks > 6
    answer = news_index.answer(QUESTION)
    assert answer.found
    top = answer.citations[0]
    assert top.title == seed_article.title
    assert any("Azerbaijan" in quote for quote in top.quotes)
    assert top.published_at == seed_article.published_at


def test_reingest_is_a_no_op(news_index: NewsIndex, seed_article: Article) -> None:
    news_index.ingest([seed_article])
    generation = news_index.generation
    files = sorted(p.name for p in news_index.data_dir.iterdir())
    report = news_index.ingest([seed_article])
    assert (report.new, report.updated, report.unchanged, report.chunks) == (0, 0, 1, 0)
    assert news_index.generation == generation
    assert sorted(p.name for p in news_index.data_dir.iterdir()) == files


def test_changed_article_replaces_its_chunks(news_index: NewsIndex) -> None:
    url = "https://news.example/summit"
    old = Article(title="Summit venue", body="The summit was held in Geneva. " * 3, url=url)
    news_index.ingest([old, *filler_articles(3)])
    chunks_before = news_index.stats().chunks
    new = Article(title="Summit venue", body="The summit moved to Reykjavik at the last minute.",
                  url=url)  # fmt: skip
    report = news_index.ingest([new])
    assert (report.new, report.updated) == (0, 1)
    stats = news_index.stats()
    assert stats.articles == 4
    assert stats.chunks == chunks_before  # one chunk replaced by one chunk
    answer = news_index.answer("Where was the summit held?")
    assert answer.citations[0].title == "Summit venue"
    assert "Reykjavik" in answer.citations[0].passage
    passages = news_index.search("summit Geneva", top=20)
    assert all("Geneva" not in p.text for p in passages)
    assert len(news_index.vectors()) == stats.chunks


def test_remove_deletes_article(news_index: NewsIndex, seed_article: Article) -> None:
    news_index.ingest([seed_article, *filler_articles(2)])
    assert news_index.remove(seed_article.id)
    assert not news_index.remove(seed_article.id)
    assert all(p.article.id != seed_article.id for p in news_index.search(QUESTION, top=20))
    assert news_index.stats().articles == 2


def test_filters_by_source_and_date(news_index: NewsIndex, seed_article: Article) -> None:
    news_index.ingest([seed_article, *filler_articles(4)])
    only_sports = news_index.search(QUESTION, filters=Filters(sources=("sports daily",)))
    assert only_sports and {p.article.source for p in only_sports} == {"Sports Daily"}
    from datetime import UTC, datetime

    recent = news_index.search(QUESTION, filters=Filters(since=datetime(2025, 1, 1, tzinfo=UTC)))
    assert {p.article.id for p in recent} == {seed_article.id}


def test_a_date_range_around_all_the_reporting_keeps_every_report_it_should(
    news_index: NewsIndex,
) -> None:
    """A range holding every report ("in 2023" asked of 2023's news) is answered from all of
    them, as with no range; a report without a date is still left out of a dated range."""
    from datetime import UTC, datetime

    around = Filters(since=datetime(2023, 1, 1, tzinfo=UTC), until=datetime(2024, 1, 1, tzinfo=UTC))
    news_index.ingest(filler_articles(4))
    question = "regional league defence praised by the coach"
    ranked = [(p.chunk_id, p.score) for p in news_index.search(question, top=20)]
    assert [(p.chunk_id, p.score) for p in news_index.search(question, 20, around)] == ranked
    undated = Article(
        title="An undated note on the regional league",
        body="The coach praised the defence of the regional league side after the derby.",
        source="Sports Daily",
        url="https://sports.example/undated",
    )
    news_index.ingest([undated])
    assert undated.id in {p.article.id for p in news_index.search(question, top=40)}
    assert undated.id not in {p.article.id for p in news_index.search(question, 40, around)}


def test_interrupted_ingest_keeps_previous_index(
    data_dir: Path, embedder: Embedder, seed_article: Article
) -> None:
    index = NewsIndex(data_dir, create=True, embedder=embedder)
    index.ingest([seed_article])

    def crash(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.ingest(filler_articles(10, "Crash"), progress=crash, batch_chunks=1)
    reopened = NewsIndex(data_dir, embedder=embedder)
    assert reopened.stats().articles == 1
    assert reopened.answer(QUESTION).citations[0].title == seed_article.title


def test_killed_ingest_process_leaves_index_loadable(
    data_dir: Path, embedder: Embedder, seed_article: Article
) -> None:
    """SIGKILL a real ingest mid-way; the index opens and answers from what was committed."""
    index = NewsIndex(data_dir, create=True, embedder=embedder)
    index.ingest([seed_article])
    index.close()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_index import filler_articles
        from index import NewsIndex
        index = NewsIndex({str(data_dir)!r})
        def tick(done):
            print("embedded", done, flush=True)
        index.ingest(filler_articles(300, "Killed"), progress=tick, batch_chunks=64)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 3 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("embedded"):
            seen += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen >= 3, "the ingest never got going"
    reopened = NewsIndex(data_dir, embedder=embedder)
    stats = reopened.stats()
    assert stats.chunks == len(reopened.vectors())
    assert reopened.answer(QUESTION).citations[0].title == seed_article.title
    # and the next ingest carries on where the killed one stopped
    report = reopened.ingest(filler_articles(300, "Killed")[:5])
    assert report.new + report.unchanged == 5


def test_index_built_with_another_model_is_refused(
    news_index: NewsIndex, seed_article: Article
) -> None:
    news_index.ingest([seed_article])
    with pytest.raises(NewsIndexError, match="built with the embedding model"):
        NewsIndex(
            news_index.data_dir,
            model="some-other-model",
            milvus_uri=news_index.milvus_uri,
            database_url=news_index.database_url,
        )


def test_missing_and_corrupt_data_dir(tmp_path: Path) -> None:
    with pytest.raises(NewsIndexError, match="newsbot ingest"):
        NewsIndex(tmp_path / "absent")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "news.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(NewsIndexError, match="damaged"):
        NewsIndex(broken)


def test_duplicate_text_under_another_url_is_stored_once(news_index: NewsIndex) -> None:
    body = "A wire story about the harbour strike that many outlets carried word for word."
    one = Article(title="Harbour strike", body=body, url="https://a.example/strike")
    two = Article(title="Harbour strike!", body=body, url="https://b.example/strike")
    report = news_index.ingest([one, two])
    assert (report.new, report.duplicates) == (1, 1)
