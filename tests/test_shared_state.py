"""State several bot workers share: the feed list and the questions behind "More" buttons, on
a SQLite file and on a real PostgreSQL database (subscriptions: tests/test_subscriptions.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres import fresh_database

from db.postgres import schema_sql, translate
from services.feeds import FeedList
from services.questions import BUSY_SECONDS, QuestionStore


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "shared.sqlite"
    else:
        with fresh_database() as url:
            yield url


def test_sql_is_written_once_for_both_engines() -> None:
    assert translate("SELECT * FROM t WHERE a=? AND b IS ?") == (
        "SELECT * FROM t WHERE a=%s AND b IS NOT DISTINCT FROM %s"
    )
    assert translate("SELECT '100%' WHERE x=?") == "SELECT '100%%' WHERE x=%s"
    assert schema_sql("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, chat INTEGER)") == (
        "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, chat BIGINT)"
    )


def test_the_feed_list_is_shared_by_two_workers(location: Path | str) -> None:
    first, second = FeedList(location), FeedList(location)
    feed, created = first.add("HTTPS://Example.com/rss#top", "Example")
    assert created and feed.url == "https://example.com/rss"
    again, created = second.add("https://example.com/rss")
    assert not created and again.id == feed.id
    when = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert second.record_success(feed.id, etag='"v1"', last_modified=None, new_articles=3, at=when)
    assert first.record_failure(feed.url, "HTTP 502", at=when)
    seen = first.get(feed.id)
    assert seen is not None and seen.etag == '"v1"' and seen.articles_seen == 3
    assert seen.last_new_article_at == when and seen.error_count == 1
    second.mark_seeded([feed.url, feed.url])
    assert first.seeded_defaults() == {feed.url}
    assert first.remove(feed.url) and second.list() == []
    first.close()
    second.close()


def test_a_more_button_pressed_on_two_workers_at_once_pages_once(location: Path | str) -> None:
    workers = [QuestionStore(location) for _ in range(4)]
    key = workers[0].add("what did the glacier station record", ["a1", "a2"])
    won: list[int] = []

    def press(n: int) -> None:
        if workers[n].claim(key, 3) is not None:
            won.append(n)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1  # one press fetches page 2; the others hear "already above"
    workers[won[0]].release(key, ("a1", "a2", "a3", "a4"))
    assert workers[1].claim(key, 3) is None  # page 2 is out
    nxt = workers[2].claim(key, 5)
    assert nxt is not None and nxt.shown == ("a1", "a2", "a3", "a4")
    workers[2].release(key)  # nothing new was shown: the same page may be asked again
    assert workers[3].claim(key, 5) is not None
    later = workers[3].claim(key, 5, now=None)
    assert later is None  # still claimed
    crashed = workers[0].claim(key, 5, now=time.time() + BUSY_SECONDS + 1)
    assert crashed is not None  # a claim left by a killed worker does not block for ever
    assert workers[0].get("nope") is None
    for store in workers:
        store.close()


def test_one_worker_at_a_time_polls_the_feeds(location: Path | str) -> None:
    first, second = FeedList(location), FeedList(location)
    with first.polling_turn() as mine:
        assert mine
        with second.polling_turn() as theirs:
            assert not theirs  # the other worker skips this round
    with second.polling_turn() as theirs:
        assert theirs  # released when the first poll ended
    first.close()
    second.close()
