"""Messages with no topic, as people open a chat with a news bot: "latest news", "what
happened yesterday", "hi"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corpus.models import Article
from index import NewsIndex
from index.headlines import asks_for_headlines, small_talk
from index.query import QueryAnalyser

NOW = datetime(2023, 10, 26, 9, tzinfo=UTC)  # a Thursday


def report(title: str, source: str, opening: str, day: int) -> Article:
    return Article(
        title=title,
        body=f"By Staff Reporter\n\n{opening} The rest of the report follows with details.",
        source=source,
        url=f"https://{source.split()[0].lower()}.example/{day}",
        published_at=f"2023-10-{day:02d}T09:00:00Z",
    )


@pytest.mark.parametrize(
    ("message", "headlines", "talk"),
    [
        ("latest news", True, False),
        ("news", True, False),
        ("what's new", True, False),
        ("any news today", True, False),
        ("what happened yesterday", True, False),
        ("top stories this week", True, False),
        ("hi", False, True),
        ("thanks!", False, True),
        # a topic is a question, not the headlines
        ("latest news on ferry fares", False, False),
        ("what happened to the ferry company yesterday", False, False),
        ("new iphone", False, False),
    ],
)
def test_messages_without_a_topic(message: str, headlines: bool, talk: bool) -> None:
    intent = QueryAnalyser(["Coast Herald"]).analyse(message, NOW)
    assert asks_for_headlines(intent) is headlines
    assert small_talk(intent) is talk


def test_latest_news_is_the_newest_reporting_one_per_outlet(news_index: NewsIndex) -> None:
    news_index.ingest(
        [
            report("Ferry fares cut", "Coast Herald", "The ferry company cut fares by five "
                   "percent after complaints from island residents.", 25),
            report("Harbour dredging starts", "Coast Herald", "Dredging of the old harbour "
                   "began on Monday after two years of delays.", 24),
            report("Library reopens", "Valley Times", "The town library reopened its doors "
                   "after a six-month renovation of the reading rooms.", 23),
            report("Bridge closed", "Valley Times", "The river bridge closed for repairs after "
                   "engineers found cracks in two of its supports.", 10),
        ]
    )  # fmt: skip
    answer = news_index.answer("latest news", now=NOW)
    assert answer.found and answer.note == "The newest reporting I have:"
    # the newest of each outlet, newest first, quoted by its opening sentence (not the byline)
    assert [c.title for c in answer.citations] == ["Ferry fares cut", "Library reopens"]
    assert answer.citations[0].quotes[0].startswith("The ferry company cut fares")
    # a time named: that time's newest reporting
    yesterday = news_index.answer(
        "what happened yesterday", now=datetime(2023, 10, 11, 9, tzinfo=UTC)
    )
    assert [c.title for c in yesterday.citations] == ["Bridge closed"]
    assert yesterday.note == "The newest reporting I have from yesterday:"
    # small talk gets the usage hint, not quotes
    hello = news_index.answer("hi", now=NOW)
    assert not hello.found and hello.hint is not None and hello.hint.startswith("Ask me")
