"""Searches running while ingests switch generations: every search reads one generation's
vectors and caches from start to end, so none fails or returns a malformed answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from corpus.models import Article
from index import Answer, NewsIndex
from index.embedder import Embedder


def story(i: int) -> Article:
    return Article(
        title=f"Harbour report {i}",
        body=(
            f"The harbour board met for the {i}th time on Tuesday. Dockers in port {i} voted "
            f"to end the strike after the board raised wages by {i} percent. Ferries to the "
            "islands will run on the usual timetable from Monday, the operator said."
        ),
        source=f"Outlet {i % 3}",
        url=f"https://h.example/{i}",
        published_at=f"2023-10-{1 + i % 28:02d}T09:00:00Z",
    )


QUESTIONS = [
    "Why did the dockers end the strike?",
    "What did Outlet 1 report about ferry timetables?",
    "How much were wages raised according to Outlet 2?",
    "When will the ferries run again?",
]


def test_searches_while_ingests_switch_generations(news_index: NewsIndex) -> None:
    news_index.ingest([story(i) for i in range(3)])
    done = threading.Event()
    errors: list[BaseException] = []
    answers: list[Answer] = []

    def ask(offset: int) -> None:
        k = offset
        try:
            while not done.is_set():
                question = QUESTIONS[k % len(QUESTIONS)]
                answers.append(news_index.answer(question))
                passages, _ = news_index.retrieve(question, top=5)
                assert all(p.text and p.article.id for p in passages)
                k += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        first = news_index.generation
        for i in range(3, 9):
            news_index.ingest([story(i)])
        news_index.remove(story(4).id)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors
    assert news_index.generation == first + 7
    assert answers
    for answer in answers:
        assert answer.abstained or answer.citations
        for citation in answer.citations:
            assert citation.article_id and citation.title and citation.quotes


def test_an_ingest_builds_on_what_another_process_committed(
    news_index: NewsIndex, embedder: Embedder
) -> None:
    other = NewsIndex(  # another process (or machine), opened now
        news_index.data_dir,
        embedder=embedder,
        milvus_uri=news_index.milvus_uri,
        database_url=news_index.database_url,
    )
    news_index.ingest([story(1)])
    other.ingest([story(2)])  # its in-memory generation is stale: it picks up the newer one
    stats = other.stats()
    assert stats.articles == 2 and stats.generation == 2
    assert len(other.vectors()) == stats.chunks
    assert news_index.reload() and len(news_index.vectors()) == stats.chunks
    other.close()


def test_connections_stay_few_over_a_thousand_questions_on_worker_threads(
    news_index: NewsIndex,
) -> None:
    """Worker threads come and go (executors retire them, each feed poll has a pool of its
    own); their SQLite connections must go with them, not pile up as open files."""
    news_index.ingest([story(i) for i in range(6)])
    for batch in range(100):
        with ThreadPoolExecutor(4) as pool:  # ten questions on four fresh threads
            answers = list(pool.map(news_index.answer, QUESTIONS * 2 + QUESTIONS[:2]))
        assert all(isinstance(a, Answer) for a in answers) and any(a.citations for a in answers)
        if batch >= 1:
            assert news_index.store.open_connections <= 1 + 4 + 4, batch
