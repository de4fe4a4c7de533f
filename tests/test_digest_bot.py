"""Daily digests end to end: the real application, index and model against the Bot API emulator.

Time is a mutable `Clock` in `bot_data`; each test moves it and runs the scheduler's tick
directly (`run_tick`), so every digest goes out at a known instant. One test lets the JobQueue
run the tick on its own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulated import emulator_settings
from telegram import Chat, Message, User
from telegram.ext import Application

from bot.app import build_application, polling
from bot.digests import JOB_NAME, TickReport, run_tick
from bot.handlers.digest import (
    ADMINS_ONLY,
    ALREADY_STOPPED,
    BUTTON_ADMINS_ONLY,
    is_anonymous_admin,
)
from corpus.models import Article
from emulator import BotApiEmulator, ChatMessage
from index import NewsIndex
from index.embedder import Embedder
from services.subscriptions import SubscriptionStore

BOT_NAME = "DigestTestBot"
USER = 5001
OTHER_USER = 5002
ADMIN = 77
MEMBER = 78
GROUP = -100555
FORUM = -1001000000777

OLD = datetime(2024, 6, 1, tzinfo=UTC)  # published before every window: "new" means arrived
DAY0 = datetime(2025, 1, 14, tzinfo=UTC)  # a Tuesday in winter (New York is UTC-5)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """DAY0 + `day` days, at hour:minute UTC."""
    return DAY0 + timedelta(days=day, hours=hour, minutes=minute)


# --------------------------------------------------------------------------- the news


def story(slug: str, title: str, body: str, source: str = "Wire One") -> Article:
    host = source.lower().replace(" ", "")
    return Article(
        title=title,
        body=body,
        source=source,
        url=f"https://{host}.example/{slug}",
        published_at=OLD,
    )


QUAKE_BODY = (
    "A strong earthquake struck southern Turkey near the Syrian border on Tuesday, collapsing "
    "buildings in several cities. Rescue teams worked through the night to reach people "
    "trapped under rubble, officials said."
)
QUAKE = story("quake", "Earthquake hits southern Turkey", QUAKE_BODY)
QUAKE_TOO = story(
    "quake2",
    "Strong quake strikes Turkey near Syria",
    QUAKE_BODY.replace("Tuesday", "Tuesday morning"),
    source="Daily Two",
)
DERBY = story(
    "derby",
    "Derby ends three-one",
    "The home side won the derby three goals to one after a second-half comeback. The coach "
    "praised the midfield and said the title race is open again.",
    source="Sport Three",
)
CLIMATE = story(
    "cop",
    "Summit agrees loss and damage fund",
    "Negotiators at the climate summit agreed on a fund for loss and damage caused by global "
    "warming. Campaigners said the deal on emissions did not go far enough.",
    source="Planet Post",
)
COPPER = story(
    "copper",
    "Copper futures surge in Shanghai",
    "Copper futures surged in Shanghai after smelters cut output and traders bought ahead of "
    "new stimulus. Analysts said prices could keep rising while inventories stay low.",
    source="Markets Daily",
)


# --------------------------------------------------------------------------- the bot


class Clock:
    """The application's "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username=BOT_NAME) as emulator:
        emulator.add_chat(USER)
        emulator.add_chat(OTHER_USER)
        emulator.add_chat(GROUP, "supergroup", title="Digest fans")
        emulator.add_chat(FORUM, "supergroup", title="Forum", is_forum=True)
        yield emulator


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder) -> Iterator[NewsIndex]:
    news = NewsIndex(tmp_path / "data", create=True, embedder=embedder)
    yield news
    news.close()


@contextlib.asynccontextmanager
async def running_bot(
    emu: BotApiEmulator,
    index: NewsIndex,
    clock: Clock,
    *,
    job: bool = False,
    **overrides: Any,
) -> AsyncIterator[Application]:
    """The application as `newsbot serve` runs it. Without `job`, the tick only runs when the
    test calls `run_tick`."""
    app = build_application(emulator_settings(emu, index, ADMIN, **overrides), index)
    app.bot_data.clock = clock

    def without_tick(app: Application) -> None:
        for scheduled in app.job_queue.get_jobs_by_name(JOB_NAME):
            scheduled.schedule_removal()

    async with polling(app, prepare=None if job else without_tick) as running:
        yield running


async def tick(app: Application, clock: Clock, when: datetime) -> TickReport:
    clock.now = when
    return await run_tick(app)


def digests(emu: BotApiEmulator, chat_id: int) -> list[ChatMessage]:
    return [m for m in emu.messages(chat_id) if m.plain.startswith("Your daily digest")]


def store(app: Application) -> SubscriptionStore:
    return app.bot_data.subscriptions


def sub_id_of(reply: ChatMessage) -> str:
    """The id from "Subscribed: a daily digest ABC234 at …"."""
    return reply.plain.split("daily digest ", 1)[1].split()[0]


# --------------------------------------------------------------------------- commands


async def test_subscribe_list_and_unsubscribe(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 12))  # 15:00 in Istanbul
    async with running_bot(emu, index, clock) as app:
        first = await emu.say(USER, "/subscribe 07:30 Europe/Istanbul Syria")
        assert first.plain.startswith("Subscribed: a daily digest")
        assert "at 07:30 Europe/Istanbul on “Syria”" in first.plain
        assert "Next one: Wed 15 Jan 2025, 07:30." in first.plain  # local time, tomorrow
        syria = sub_id_of(first)
        assert f"/unsubscribe {syria}" in first.plain

        evening = await emu.say(USER, "/subscribe 18:00")  # the zone the chat named last
        assert "at 18:00 Europe/Istanbul." in evening.plain
        assert "Next one: Tue 14 Jan 2025, 18:00." in evening.plain  # later today
        again = await emu.say(USER, "/subscribe 18:00 Europe/Istanbul")
        assert again.plain.startswith("You already have this digest")
        assert len(store(app).list_for_chat(USER)) == 2

        listing = await emu.say(USER, "/subscriptions")
        assert f"{syria} at 07:30 Europe/Istanbul on “Syria” — next: Wed 15 Jan 2025" in (
            listing.plain
        )
        assert sub_id_of(evening) in listing.plain and "/unsubscribe all" in listing.plain

        stopped = await emu.say(USER, f"/unsubscribe {syria.lower()}")
        assert stopped.plain == f"Stopped the daily digest {syria}."
        unknown = await emu.say(USER, "/unsubscribe ZZZZZZ")
        assert "no digest ZZZZZZ" in unknown.plain
        usage = await emu.say(USER, "/unsubscribe")
        assert "/unsubscribe all" in usage.plain
        everything = await emu.say(USER, "/unsubscribe all")
        assert everything.plain == "Stopped the daily digest in this chat."
        assert store(app).list_for_chat(USER) == []
        empty = await emu.say(USER, "/subscriptions")
        assert empty.plain.startswith("No daily digests here yet") and "/subscribe" in empty.plain
    assert emu.errors == []


async def test_bad_input_gets_usage_and_stores_nothing(
    emu: BotApiEmulator, index: NewsIndex
) -> None:
    async with running_bot(emu, index, Clock(at(0, 12))) as app:
        late = await emu.say(USER, "/subscribe 25:00")
        assert "not a valid time" in late.plain and "/subscribe [HH:MM] [Area/City]" in late.plain
        mars = await emu.say(USER, "/subscribe 08:00 Mars/Base")
        assert "Unknown time zone 'Mars/Base'" in mars.plain and "Europe/Istanbul" in mars.plain
        stopwords = await emu.say(USER, "/subscribe 08:00 UTC the of and")
        assert "no searchable words" in stopwords.plain
        assert store(app).list_for_chat(USER) == []
        assert store(app).chat_timezone(USER) is None  # not even the zone of a refused command
        digest = await emu.say(USER, "/digest the of")
        assert "no searchable words" in digest.plain
    assert emu.errors == []


# --------------------------------------------------------------------------- schedule


async def test_digests_fire_at_local_time_in_two_zones(
    emu: BotApiEmulator, index: NewsIndex
) -> None:
    clock = Clock(at(0, 13))  # after 07:30 in both zones: the first digests are tomorrow's
    index.ingest([QUAKE, DERBY], now=at(0, 14))
    async with running_bot(emu, index, clock) as app:
        await emu.say(USER, "/subscribe 07:30 Europe/Istanbul")  # 04:30 UTC
        await emu.say(OTHER_USER, "/subscribe 07:30 America/New_York")  # 12:30 UTC in winter

        assert (await tick(app, clock, at(1, 4, 29))).sent == 0
        report = await tick(app, clock, at(1, 4, 30))
        assert (report.sent, report.built) == (1, 1)
        [istanbul] = digests(emu, USER)
        assert "since Tue 14 Jan 2025, 07:30" in istanbul.plain  # the last 24 h, local time
        assert "Earthquake hits southern Turkey" in istanbul.plain
        assert "Derby ends three-one" in istanbul.plain
        assert digests(emu, OTHER_USER) == []

        assert (await tick(app, clock, at(1, 12, 29))).sent == 0
        assert (await tick(app, clock, at(1, 12, 30))).sent == 1
        [new_york] = digests(emu, OTHER_USER)
        assert "since Tue 14 Jan 2025, 07:30" in new_york.plain
        assert (await tick(app, clock, at(1, 12, 31))).sent == 0
        assert len(digests(emu, USER)) == 1
    assert emu.errors == []


async def test_daylight_saving_keeps_the_local_time(emu: BotApiEmulator, index: NewsIndex) -> None:
    """New York moves from UTC-5 to UTC-4 on Sunday 9 March 2025: 07:30 stays 07:30."""
    clock = Clock(datetime(2025, 3, 7, 13, 0, tzinfo=UTC))  # Friday 08:00 in New York
    async with running_bot(emu, index, clock) as app:
        reply = await emu.say(USER, "/subscribe 07:30 America/New_York")
        assert "Next one: Sat 8 Mar 2025, 07:30." in reply.plain
        # Saturday, still standard time: 12:30 UTC
        assert (await tick(app, clock, datetime(2025, 3, 8, 11, 30, tzinfo=UTC))).sent == 0
        assert (await tick(app, clock, datetime(2025, 3, 8, 12, 29, tzinfo=UTC))).sent == 0
        assert (await tick(app, clock, datetime(2025, 3, 8, 12, 30, tzinfo=UTC))).sent == 1
        # Sunday, daylight time: 11:30 UTC, and not again at 12:30
        assert (await tick(app, clock, datetime(2025, 3, 9, 11, 29, tzinfo=UTC))).sent == 0
        assert (await tick(app, clock, datetime(2025, 3, 9, 11, 30, tzinfo=UTC))).sent == 1
        assert (await tick(app, clock, datetime(2025, 3, 9, 12, 30, tzinfo=UTC))).sent == 0
        first, second = digests(emu, USER)
        assert "Nothing new since Fri 7 Mar 2025, 07:30." in first.plain  # DIGEST_SEND_EMPTY
        assert "Nothing new since Sat 8 Mar 2025, 07:30." in second.plain
    assert emu.errors == []


async def test_each_digest_has_only_new_articles(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    async with running_bot(emu, index, clock) as app:
        await emu.say(USER, "/subscribe 08:00 UTC")
        index.ingest([QUAKE, DERBY], now=at(0, 7))
        await tick(app, clock, at(0, 8))
        index.ingest([CLIMATE, COPPER], now=at(0, 12))
        await tick(app, clock, at(1, 8))
        first, second = digests(emu, USER)
    assert "Earthquake hits southern Turkey" in first.plain and "Derby" in first.plain
    assert "Summit agrees" not in first.plain
    assert "Summit agrees loss and damage fund" in second.plain and "Copper futures" in second.plain
    assert "Earthquake" not in second.plain and "Derby" not in second.plain
    assert "2 stories since Tue 14 Jan 2025, 08:00" in second.plain  # from the previous digest
    assert emu.errors == []


async def test_topic_and_one_entry_per_story(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    index.ingest([QUAKE, QUAKE_TOO, DERBY, CLIMATE], now=at(0, 7))
    async with running_bot(emu, index, clock) as app:
        await emu.say(USER, "/subscribe 08:00 UTC")
        await emu.say(OTHER_USER, "/subscribe 08:00 UTC climate")
        report = await tick(app, clock, at(0, 8))
        assert (report.sent, report.built) == (2, 2)  # one search per distinct topic
        [everything] = digests(emu, USER)
        [climate] = digests(emu, OTHER_USER)
    # the same quake from two outlets: one entry, the other outlet credited
    assert "3 stories since" in everything.plain
    assert sum(title in everything.plain for title in (QUAKE.title, QUAKE_TOO.title)) == 1
    assert "Also reported by: Daily Two" in everything.plain or (
        "Also reported by: Wire One" in everything.plain
    )
    assert 'href="https://dailytwo.example/quake2"' in everything.text or (
        'href="https://wireone.example/quake"' in everything.text
    )
    # a topic keeps unrelated news out
    assert climate.plain.startswith("Your daily digest on “climate”")
    assert "Summit agrees loss and damage fund" in climate.plain
    assert "Derby" not in climate.plain and "quake" not in climate.plain.lower()
    assert emu.errors == []


async def test_a_restart_sends_no_duplicate(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    index.ingest([QUAKE], now=at(0, 7))
    async with running_bot(emu, index, clock) as first_run:
        await emu.say(USER, "/subscribe 08:00 UTC")
        assert (await tick(first_run, clock, at(0, 8))).sent == 1
    # a new process on the same data directory: the schedule comes back from SQLite
    async with running_bot(emu, index, clock) as second_run:
        assert second_run is not first_run
        assert [s.hhmm for s in store(second_run).active()] == ["08:00"]
        assert (await tick(second_run, clock, at(0, 8, 5))).sent == 0
        assert (await tick(second_run, clock, at(0, 23, 59))).sent == 0
        assert (await tick(second_run, clock, at(1, 8))).sent == 1
    assert len(digests(emu, USER)) == 2
    assert emu.errors == []


async def test_missed_digests_within_and_beyond_the_grace(
    emu: BotApiEmulator, index: NewsIndex
) -> None:
    clock = Clock(at(0, 6))
    async with running_bot(emu, index, clock) as app:  # DIGEST_GRACE_MINUTES=120
        await emu.say(USER, "/subscribe 08:00 UTC")
        # down at 08:00, back at 09:30: still sent
        late = await tick(app, clock, at(0, 9, 30))
        assert (late.sent, late.skipped) == (1, 0)
        # down at 08:00 the next day, back at 10:30: skipped, and not sent later that day
        missed = await tick(app, clock, at(1, 10, 30))
        assert (missed.sent, missed.skipped) == (0, 1)
        assert (await tick(app, clock, at(1, 11))).sent == 0
        index.ingest([CLIMATE], now=at(1, 12))
        assert (await tick(app, clock, at(2, 8))).sent == 1
        first, second = digests(emu, USER)
    # the skipped day's news is not lost: the window starts at the last digest sent
    assert "Nothing new since Mon 13 Jan 2025, 09:30." in first.plain
    assert "1 story since Tue 14 Jan 2025, 09:30" in second.plain
    assert "Summit agrees" in second.plain
    assert emu.errors == []


async def test_a_blocked_chat_is_paused_and_the_others_still_get_theirs(
    emu: BotApiEmulator, index: NewsIndex, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(at(0, 6))
    async with running_bot(emu, index, clock) as app:
        blocked = sub_id_of(await emu.say(USER, "/subscribe 08:00 UTC"))
        await emu.say(OTHER_USER, "/subscribe 08:00 UTC")
        emu.block_chat(USER)
        report = await tick(app, clock, at(0, 8))
        assert (report.sent, report.paused, report.failed) == (1, 1, 0)
        assert len(digests(emu, OTHER_USER)) == 1
        paused = store(app).get(blocked)
        assert paused is not None and paused.paused and "blocked" in (paused.pause_reason or "")
        assert any(
            r.name == "bot.digests" and r.levelno == logging.WARNING and str(USER) in r.getMessage()
            for r in caplog.records
        )
        since = emu.mark()
        assert (await tick(app, clock, at(1, 8))).sent == 1  # not retried, the others go on
        assert [c.params["chat_id"] for c in emu.calls[since:] if c.method == "sendMessage"] == [
            OTHER_USER
        ]
        # the user unblocks the bot and comes back
        emu.block_chat(USER, blocked=False)
        back = await emu.say(USER, "/subscribe 08:00 UTC")
        assert "Welcome back" in back.plain
        assert (await tick(app, clock, at(2, 8))).sent == 2
        assert len(digests(emu, USER)) == 1
    assert emu.errors == []


async def test_flood_control_is_waited_out(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    async with running_bot(emu, index, clock) as app:
        await emu.say(USER, "/subscribe 08:00 UTC")
        emu.fail_next("sendMessage", 429, retry_after=1)
        report = await tick(app, clock, at(0, 8))
    assert report.sent == 1 and len(digests(emu, USER)) == 1
    assert [c.status for c in emu.calls if c.method == "sendMessage"][-2:] == [429, 200]
    assert emu.errors == []


async def test_the_job_queue_runs_the_tick(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 7, 59))
    async with running_bot(emu, index, clock, job=True, digest_tick_seconds=0.2) as app:
        [job] = app.job_queue.get_jobs_by_name(JOB_NAME)
        assert job.next_t is not None and job.job.trigger.interval.total_seconds() == 0.2
        await emu.say(USER, "/subscribe 08:00 UTC")
        clock.now = at(0, 8)
        [digest] = await emu.wait_for_messages(USER, 1, since=emu.mark())
        assert digest.plain.startswith("Your daily digest")
    assert emu.errors == []


# --------------------------------------------------------------------------- groups, buttons


async def test_in_groups_only_admins_manage_digests(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    emu.set_admins(GROUP, [ADMIN])
    async with running_bot(emu, index, clock) as app:
        refused = await emu.say(GROUP, "/subscribe 08:00 UTC", user_id=MEMBER)
        assert refused.plain == ADMINS_ONLY
        assert store(app).list_for_chat(GROUP) == []
        accepted = await emu.say(GROUP, "/subscribe 08:00 UTC", user_id=ADMIN)
        assert accepted.plain.startswith("Subscribed")
        refused = await emu.say(GROUP, "/unsubscribe all", user_id=MEMBER)
        assert refused.plain == ADMINS_ONLY
        listing = await emu.say(GROUP, "/subscriptions", user_id=MEMBER)  # reading is fine
        assert sub_id_of(accepted) in listing.plain

        await tick(app, clock, at(0, 8))
        [digest] = digests(emu, GROUP)
        [button] = digest.buttons
        query = emu.press_button(GROUP, digest.message_id, button["callback_data"], user_id=MEMBER)
        answer = await emu.wait_for_callback_answer(query)
        assert (answer["text"], answer.get("show_alert")) == (BUTTON_ADMINS_ONLY, True)
        assert len(store(app).list_for_chat(GROUP)) == 1 and digest.buttons

        query = emu.press_button(GROUP, digest.message_id, button["callback_data"], user_id=ADMIN)
        assert (await emu.wait_for_callback_answer(query))["text"] == "Unsubscribed."
        [confirmation] = await emu.wait_for_messages(GROUP)
        assert "Stopped the daily digest" in confirmation.plain
        assert store(app).list_for_chat(GROUP) == []
    assert emu.errors == []


def test_anonymous_admins_write_as_the_group() -> None:
    group = Chat(GROUP, "supergroup")
    anonymous = User(1087968824, "Group", is_bot=True)
    as_group = Message(1, datetime.now(UTC), group, from_user=anonymous, sender_chat=group)
    channel = Chat(-100999, "channel")
    from_channel = Message(2, datetime.now(UTC), group, from_user=anonymous, sender_chat=channel)
    member = Message(3, datetime.now(UTC), group, from_user=User(MEMBER, "Member", is_bot=False))
    assert is_anonymous_admin(as_group)
    assert not is_anonymous_admin(from_channel) and not is_anonymous_admin(member)


async def test_forum_digest_goes_to_its_topic(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    emu.set_admins(FORUM, [], creator_id=ADMIN)
    async with running_bot(emu, index, clock) as app:
        reply = await emu.say(FORUM, "/subscribe 08:00 UTC", user_id=ADMIN, message_thread_id=7)
        assert reply.message_thread_id == 7
        [sub] = store(app).list_for_chat(FORUM)
        assert sub.thread_id == 7
        await tick(app, clock, at(0, 8))
        [digest] = digests(emu, FORUM)
    assert digest.message_thread_id == 7
    assert emu.errors == []


async def test_the_unsubscribe_button(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 6))
    async with running_bot(emu, index, clock) as app:
        sub_id = sub_id_of(await emu.say(USER, "/subscribe 08:00 UTC"))
        await emu.say(USER, "/subscribe 08:00 UTC climate")
        await tick(app, clock, at(0, 8))
        first, second = digests(emu, USER)
        data = {m.buttons[0]["callback_data"] for m in (first, second)}
        assert all(len(d.encode()) <= 64 for d in data)
        mine = first if first.buttons[0]["callback_data"] == f"unsub:{sub_id}" else second
        other = second if mine is first else first

        query = emu.press_button(USER, mine.message_id, f"unsub:{sub_id}")
        assert (await emu.wait_for_callback_answer(query))["text"] == "Unsubscribed."
        [confirmation] = await emu.wait_for_messages(USER)
        assert confirmation.plain.startswith(f"Stopped the daily digest {sub_id} at 08:00 UTC")
        assert mine.buttons == []  # the button is gone
        assert [s.topic for s in store(app).list_for_chat(USER)] == ["climate"]

        await emu.say(USER, "/unsubscribe all")
        stale = emu.press_button(USER, other.message_id, other.buttons[0]["callback_data"])
        assert (await emu.wait_for_callback_answer(stale))["text"] == ALREADY_STOPPED
        await emu.wait_for_call("editMessageReplyMarkup")  # answered first, then edited
        assert other.buttons == []
        assert len(emu.messages(USER)) == 6  # 2 subscribed, 2 digests, 1 stopped, 1 all stopped
    assert emu.errors == []


async def test_digest_command(emu: BotApiEmulator, index: NewsIndex) -> None:
    clock = Clock(at(0, 12))
    index.ingest([DERBY, CLIMATE], now=at(0, 7))
    index.ingest([COPPER], now=at(-3, 7))  # older than a day
    async with running_bot(emu, index, clock) as app:
        recent = await emu.say(USER, "/digest")  # no subscription: the last 24 hours
        assert recent.plain.startswith("News digest\n2 stories since Mon 13 Jan 2025, 12:00")
        assert "Derby" in recent.plain and "Copper" not in recent.plain
        assert recent.buttons == []
        climate = await emu.say(USER, "/digest climate")
        assert climate.plain.startswith("News digest on “climate”")
        assert "Summit agrees" in climate.plain and "Derby" not in climate.plain

        await emu.say(USER, "/subscribe 08:00 Europe/Istanbul climate")
        preview = await emu.say(USER, "/digest")  # what the next digest would hold
        assert preview.plain.startswith("Your next digest so far on “climate”")
        assert "since Mon 13 Jan 2025, 15:00" in preview.plain  # local time
        # a preview uses nothing up: the daily digest still goes out
        assert (await tick(app, clock, at(1, 5))).sent == 1
    assert emu.errors == []
