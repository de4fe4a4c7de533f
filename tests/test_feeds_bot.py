"""Live news in the running bot: feed commands, /pollnow and the polling job, end to end.

The real application and index run against the Bot API emulator, and every feed and page is
served by a local HTTP server started here: nothing touches the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulated import emulator_settings
from localweb import LIBRARY, SOLAR, LocalWeb, closed_port_url, item, rss
from telegram.ext import Application

from bot.app import build_application, polling
from bot.feed_polling import schedule_feed_polling
from bot.handlers import common
from bot.handlers.access import ADMINS_ONLY
from corpus.loaders import load_path, seed_path
from corpus.loaders.feeds import parse_feed, poll_feed
from corpus.models import Article
from emulator import BotApiEmulator
from index import NewsIndex
from index.embedder import Embedder
from services.feeds import FeedPolling

ADMIN = 77
READERS = (5001, 5002, 5003, 5004)
GROUP = -100555
NO_POLL = 3600.0  # `first=`: the job stays out of the way of a test that polls by hand

TALKS_QUESTION = "Where did Turkey and Israel hold their talks?"
READER_QUESTIONS = (
    TALKS_QUESTION,
    "Why did the train drivers go on strike?",
    "How much did the Morteratsch glacier retreat?",
    "Who mediated between Turkey and Israel?",
)
SOLAR_QUESTION = "Where did a floating solar farm open?"


# --- the news already indexed -----------------------------------------------------------------


def known_articles() -> list[Article]:
    rail = Article(
        title="Rail drivers begin two-day strike over pay",
        body=(
            "Train drivers on the northern network began a forty-eight hour strike at dawn on "
            "Thursday after talks over pay and rest breaks collapsed late on Wednesday night. "
            "The operator ran a skeleton timetable with roughly one train in five."
        ),
        source="Rail Gazette",
        url="https://rail.example/strike",
        published_at=datetime(2025, 6, 5, tzinfo=UTC),
    )
    glacier = Article(
        title="Morteratsch glacier loses forty metres in a year",
        body=(
            "Scientists measuring the Morteratsch glacier reported that it lost a further forty "
            "metres of length over the past year, one of the largest retreats since records "
            "began there. They blamed a dry winter followed by two long heatwaves."
        ),
        source="Alpine Monitor",
        url="https://alpine.example/morteratsch",
        published_at=datetime(2025, 6, 6, tzinfo=UTC),
    )
    return [rail, glacier]


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder) -> Iterator[NewsIndex]:
    news = NewsIndex(tmp_path / "data", create=True, embedder=embedder)
    news.ingest([*load_path(seed_path()).articles, *known_articles()])
    yield news
    news.close()


# --- feeds and pages from a local server ------------------------------------------------------


def page(title: str, paragraphs: list[str]) -> bytes:
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>{text}"
        "</article></main><footer>© 2025 Town Herald</footer></body></html>"
    ).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalWeb]:
    with LocalWeb() as web:
        yield web


# --- the bot ----------------------------------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="NewsFeedsBot") as emulator:
        for chat in (ADMIN, *READERS):
            emulator.add_chat(chat)
        emulator.add_chat(GROUP, "supergroup", title="Newsroom")
        yield emulator


@contextlib.asynccontextmanager
async def running_bot(
    emu: BotApiEmulator, index: NewsIndex, *, first: float | None = NO_POLL, **overrides: Any
) -> AsyncIterator[Application]:
    """The application as `newsbot serve` runs it, with live news wired in as post_init does."""
    app = build_application(emulator_settings(emu, index, ADMIN, **overrides), index)
    async with polling(app, prepare=lambda app: schedule_feed_polling(app, first=first)) as running:
        yield running


async def wait_until(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def answered_in(emu: BotApiEmulator, chat_id: int, started: float) -> tuple[float, str]:
    [reply] = await emu.wait_for_messages(chat_id, timeout=20)
    return time.monotonic() - started, reply.plain


async def ask_readers(emu: BotApiEmulator) -> list[tuple[float, str]]:
    """Every reader asks at once; each one's seconds to the answer and the answer."""
    started = time.monotonic()
    for chat, question in zip(READERS, READER_QUESTIONS, strict=True):
        emu.send_user_message(chat, question)
    return await asyncio.gather(*(answered_in(emu, chat, started) for chat in READERS))


# --- tests ------------------------------------------------------------------------------------


async def test_addfeed_and_pollnow_while_questions_keep_being_answered(
    emu: BotApiEmulator, index: NewsIndex, server: LocalWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "TYPING_AFTER", 0.0)  # the poll below is held: "typing…" at once
    solar = f"{server.base}/wire/solar"
    library = server.serve("/herald/library", page("Library reopens", LIBRARY), "text/html")
    arrived, gate = server.hold("/herald/library")  # the teaser's page: the poll waits here
    url = server.serve(
        "/wire.xml",
        rss(
            "Test Wire",
            item("Floating solar farm opens in Port Elwyn", solar, SOLAR),
            item("Library reopens", library, summary="Ashford's library is open again."),
        ),
    )
    async with running_bot(emu, index):
        added = await emu.say(ADMIN, f"/addfeed {url} Test Wire")
        assert added.plain.startswith("Following #1 Test Wire.") and "/pollnow" in added.plain

        emu.send_user_message(ADMIN, "/pollnow")
        assert await asyncio.to_thread(arrived.wait, 10)  # the poll is in flight ...
        during_fetch = await ask_readers(emu)  # ... and every reader is answered meanwhile
        assert emu.messages(ADMIN)[-1].plain == added.plain  # the poll has not finished
        gate.set()
        during_ingest = await ask_readers(emu)  # the answers go on while it embeds

        [report] = await emu.wait_for_messages(ADMIN, timeout=20)
        assert report.plain.startswith("Poll finished: 1 feed polled")
        assert "2 new" in report.plain and "0 failed" in report.plain
        assert "• Test Wire: 2 new, 0 updated, 0 unchanged\n" in report.plain + "\n"
        assert (ADMIN, "typing") in emu.chat_actions

        answer = await emu.say(READERS[0], SOLAR_QUESTION)  # right after the poll
    for seconds, reply in [*during_fetch, *during_ingest]:
        assert seconds < 3.0, (seconds, reply)
        assert "I found no relevant reporting" not in reply
    assert "Azerbaijan" in during_fetch[0][1] and "strike" in during_fetch[1][1]
    assert "Floating solar farm opens in Port Elwyn" in answer.plain
    assert f'<a href="{solar}">Test Wire</a>' in answer.text
    assert server.count("/herald/library") == 1
    assert "/wire/solar" not in server.paths()  # full text in the feed: no page fetched
    assert emu.errors == []


async def test_feeds_stats_errors_removal_and_refusals(
    emu: BotApiEmulator, index: NewsIndex, server: LocalWeb
) -> None:
    good = server.serve("/desk.xml", rss("City Desk", item("Solar", f"{server.base}/s", SOLAR)))
    failing = server.serve("/broken.xml", b"oops", "text/plain", status=500)
    async with running_bot(emu, index):
        # Not for everyone: the same refusal as /stats, in groups and private chats alike.
        for command in ("/addfeed " + good, "/feeds", "/removefeed #1", "/pollnow"):
            assert (await emu.say(GROUP, command, user_id=READERS[0])).plain == ADMINS_ONLY
        assert (await emu.say(READERS[1], "/addfeed " + good)).plain == ADMINS_ONLY
        assert (await emu.say(GROUP, "/stats", user_id=READERS[0])).plain == ADMINS_ONLY

        assert "I follow no feeds" in (await emu.say(ADMIN, "/feeds")).plain
        assert (await emu.say(ADMIN, "/addfeed")).plain == "Usage: /addfeed URL [name]"
        refused = await emu.say(ADMIN, "/addfeed ftp://files.example.test/feed")
        assert refused.plain.startswith("I cannot follow that: not an http(s) feed URL")
        assert (await emu.say(ADMIN, f"/addfeed {good}")).plain.startswith("Following #1 ")
        assert (await emu.say(GROUP, f"/addfeed {failing}", user_id=ADMIN)).plain.startswith(
            "Following #2 "
        )
        again = await emu.say(ADMIN, f"/addfeed {good}")
        assert again.plain == f"I already follow #1 {good}; see /feeds."
        before = await emu.say(ADMIN, "/feeds")
        assert "Last fetch: never" in before.plain
        assert "No poll since the bot started" in before.plain

        polled = await emu.say(ADMIN, "/pollnow")
        assert "2 feeds polled" in polled.plain and "1 new" in polled.plain
        assert "1 failed" in polled.plain
        assert "FAILED: HTTP 500 Internal Server Error" in polled.plain

        listing = (await emu.say(ADMIN, "/feeds")).plain
        assert listing.startswith("2 feeds, polled every 15 min, next poll in 59 min.")
        assert "Last poll (just now): 2 feeds polled" in listing
        assert f"#1 City Desk\n{good}\nLast fetch: just now · last new article: just now" in listing
        assert f"#2 127.0.0.1\n{failing}\nLast fetch: just now · last new article: never" in listing
        assert "Error (1 failure in a row): HTTP 500 Internal Server Error" in listing

        stats = (await emu.say(GROUP, "/stats", user_id=ADMIN)).plain
        assert "Articles: 4 · chunks:" in stats  # seed, rail, glacier + the polled one
        assert "Feeds: 2, polled every 15 min, next poll in 59 min" in stats
        assert "• City Desk: fetched just now, last new article just now" in stats
        assert (
            "• 127.0.0.1: fetched just now, last new article never. "
            "Error (1 failure in a row): HTTP 500 Internal Server Error"
        ) in stats
        assert "Last poll (just now): 2 feeds polled" in stats and "1 failed" in stats

        gone = await emu.say(ADMIN, "/removefeed #2")
        assert gone.plain == f"Stopped following #2 {failing}. Its articles stay in the index."
        assert (await emu.say(ADMIN, "/removefeed #2")).plain == "I do not follow 2; see /feeds."
        assert "not an http(s) feed URL" in (await emu.say(ADMIN, "/removefeed gopher://x")).plain
        assert (await emu.say(ADMIN, f"/removefeed {good}")).plain.startswith(
            "Stopped following #1"
        )
        assert "I follow no feeds" in (await emu.say(ADMIN, "/feeds")).plain
    assert emu.errors == []


async def test_the_job_polls_by_itself_and_never_overlaps(
    emu: BotApiEmulator,
    index: NewsIndex,
    server: LocalWeb,
    caplog: pytest.LogCaptureFixture,
) -> None:
    solar = f"{server.base}/auto/solar"
    url = server.serve("/auto.xml", rss("Auto Wire", item("Solar farm opens", solar, SOLAR)))
    server.delays["/auto.xml"] = 1.5  # each poll outlasts the 1.2 s interval
    caplog.set_level(logging.INFO, logger="bot.feed_polling")
    # The local feed is the "default" one: seeded into the feed list at start, then polled.
    async with running_bot(emu, index, first=None, feeds=[url], feed_poll_minutes=0.02) as app:
        polling: FeedPolling = app.bot_data.feed_polling
        active, most, polls = 0, 0, 0
        poll_all = polling.poller.poll_all

        def counted() -> Any:
            nonlocal active, most, polls
            active += 1
            most = max(most, active)
            try:
                return poll_all()
            finally:
                active -= 1
                polls += 1

        polling.poller.poll_all = counted  # type: ignore[method-assign]
        await wait_until(lambda: polls >= 2)
        answer = await emu.say(READERS[0], SOLAR_QUESTION)
    assert most == 1  # never two polls at once ...
    assert any("skipped" in r.getMessage() for r in caplog.records)  # ... though the job fired
    assert [f.url for f in polling.feedlist.list()] == [url]
    assert f'<a href="{solar}">Auto Wire</a>' in answer.text
    assert emu.errors == []


async def test_unreachable_default_feeds_are_warnings_and_the_bot_keeps_answering(
    emu: BotApiEmulator, index: NewsIndex, caplog: pytest.LogCaptureFixture
) -> None:
    # Local stand-ins for the public defaults, which cannot be reached from here either.
    defaults = [closed_port_url("/world/rss.xml"), closed_port_url("/news.xml")]
    caplog.set_level(logging.INFO)
    async with running_bot(emu, index, first=None, feeds=defaults, feed_poll_minutes=0.02) as app:
        polling: FeedPolling = app.bot_data.feed_polling
        await wait_until(lambda: polling.last_report is not None and not polling.running)
        answer = await emu.say(READERS[0], TALKS_QUESTION)
        listing = (await emu.say(ADMIN, "/feeds")).plain
    assert "Azerbaijan" in answer.plain
    assert listing.count("Error (1 failure in a row): ConnectError") == 2
    failed = [r for r in caplog.records if "failed: ConnectError" in r.getMessage()]
    assert {r.levelno for r in failed} == {logging.WARNING}
    assert {url for url in defaults if any(url in r.getMessage() for r in failed)} == set(defaults)
    assert all(r.levelno < logging.ERROR for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks
    assert emu.errors == []


# --- the loader: known entries -------------------------------------------------------------


def test_poll_feed_returns_a_known_full_text_entry_so_a_correction_lands(
    server: LocalWeb,
) -> None:
    story = f"{server.base}/fixed/solar"
    teaser_page = server.serve("/fixed/library", page("Library reopens", LIBRARY), "text/html")
    corrected = ["Correction: the farm will supply a third of the town's power.", *SOLAR]
    body = rss(
        "Fixes",
        item("Solar farm opens", story, corrected),
        item("Library reopens", teaser_page, summary="Ashford's library is open again."),
    )
    url = server.serve("/fixed.xml", body)
    known = {a.id for a in parse_feed(body, url).articles}  # both already indexed
    with httpx.Client() as client:
        poll = poll_feed(url, client=client, known_ids=known)
    assert [a.url for a in poll.articles] == [story]  # the full text is kept for its hash
    assert poll.articles[0].body.startswith("Correction:")
    assert "/fixed/library" not in server.paths()  # a known teaser's page is not refetched
