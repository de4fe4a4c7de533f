"""Daily digests on Telegram: the scheduler job, and sending what `services.digests` plans.

One repeating job (`digest_tick`) reads the schedule from SQLite each time instead of one PTB
job per subscription: PTB persistence does not store jobs, so after a restart the first tick
simply finds what is due, and `SubscriptionStore.mark_sent` (an atomic claim per local date)
makes sure a date is never sent twice, restarts and overlapping ticks included.

A tick, with one `now` throughout (the clock in `bot_data`, so tests can move time):

1. in a thread, decide every active subscription (`services.digests.plan`): "wait" | "skip" |
   "send"; skipped dates (missed by more than the grace) are marked at once;
2. for each due one, concurrently but bounded: build its digest (`DigestBuilds`: one
   `select_digest` per distinct window and topic, off the event loop), claim the date, send. The
   application's `RetryingRateLimiter` paces the messages, waits out 429s and repeats what surely
   did not arrive; Forbidden (bot blocked or removed, chat gone) pauses that chat's subscriptions.

Claiming just before sending, not for the whole batch up front, means a crash half-way through
a big batch leaves the unsent digests unclaimed: the next start sends them within the grace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    TelegramError,
)
from telegram.ext import Application, Job

from bot.context import BotContext
from bot.handlers.common import reply_html, typing
from bot.render_digest import render_digest
from db.sqlite import StoreUnavailable
from index.digest import select_digest
from services.digests import (
    DigestBuilds,
    DueDigest,
    grace_of,
    plan,
    preview_window,
)
from services.subscriptions import Subscription, SubscriptionStore, load_zone

log = logging.getLogger(__name__)


JOB_NAME = "digests"
FIRST_TICK_SECONDS = 1.0  # soon after start: digests that fell due while the bot was down
# Digests in flight at once; the rate limiter does the pacing. It is also the crash window: a
# digest is claimed just before its send, so a kill -9 loses at most this many (and never sends
# one twice). Eight keep Telegram's 30 messages/s busy at sends of up to ~250 ms.
SEND_CONCURRENCY = 8
UNSUBSCRIBE = "unsub"  # callback data: "unsub:<id>"

Outcome = Literal["sent", "empty", "taken", "paused", "failed"]


def unsubscribe_markup(sub_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.from_button(
        InlineKeyboardButton("Unsubscribe", callback_data=f"{UNSUBSCRIBE}:{sub_id}")
    )


# -- sending ---------------------------------------------------------------------------------


async def send_texts(
    bot: Bot,
    chat_id: int,
    texts: Sequence[str],
    *,
    thread_id: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send HTML messages in order (keyboard under the last).

    No retry here: the application's one policy (`bot.retries.RetryingRateLimiter`) waits out
    429s and repeats what surely did not arrive; a send that timed out is not repeated, as the
    design prefers a missed digest to one sent twice.
    """
    sent = []
    for number, text in enumerate(texts):
        last = number == len(texts) - 1
        sent.append(
            await bot.send_message(
                chat_id, text, message_thread_id=thread_id, reply_markup=markup if last else None
            )
        )
    return sent


def _chat_is_gone(exc: TelegramError) -> bool:
    """The bot was blocked or removed, or the chat no longer exists: retrying is pointless."""
    return isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
    )


async def _send_digest(
    bot: Bot, store: SubscriptionStore, sub: Subscription, texts: list[str], now: datetime
) -> Outcome:
    """Deliver one claimed digest; never raises."""
    chat_id = sub.chat_id
    for _ in range(2):  # a second try only after a group became a supergroup
        try:
            await send_texts(
                bot, chat_id, texts, thread_id=sub.thread_id, markup=unsubscribe_markup(sub.id)
            )
            return "sent"
        except ChatMigrated as exc:
            await asyncio.to_thread(store.move_chat, chat_id, exc.new_chat_id)
            log.info("chat %s became supergroup %s; digests follow it", chat_id, exc.new_chat_id)
            chat_id = exc.new_chat_id
        except TelegramError as exc:
            if _chat_is_gone(exc):
                paused = await asyncio.to_thread(store.pause_chat, chat_id, exc.message, now)
                log.warning(
                    "cannot write to chat %s (%s): paused its %d digest(s)", chat_id, exc, paused
                )
                return "paused"
            log.error("digest %s to chat %s failed: %s", sub.id, chat_id, exc)
            return "failed"
        except Exception:
            log.exception("digest %s to chat %s failed", sub.id, chat_id)
            return "failed"
    return "failed"


# -- the tick --------------------------------------------------------------------------------


@dataclass
class TickReport:
    """What one tick did; `built` counts `select_digest` runs (shared by equal windows)."""

    due: int = 0
    sent: int = 0
    empty: int = 0  # nothing new and DIGEST_SEND_EMPTY is off: marked, not sent
    skipped: int = 0
    taken: int = 0  # another tick or process had claimed the date first
    paused: int = 0
    failed: int = 0
    built: int = 0
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # by subscription id


async def _deliver(
    application: Application,
    builds: DigestBuilds,
    limit: asyncio.Semaphore,
    item: DueDigest,
    now: datetime,
) -> Outcome:
    """Build, claim, send one due digest. Unclaimed on a build failure: the next tick retries."""
    store, settings = application.bot_data.subscriptions, application.bot_data.settings
    sub = item.sub
    async with limit:
        items = await builds.get(item.since, sub.topic)
        if items is None:
            return "failed"
        texts = []
        if items or settings.digest_send_empty:
            texts = render_digest(
                items, topic=sub.topic, since=item.since, tz=sub.zone, sub_id=sub.id
            )
        if not await asyncio.to_thread(store.mark_sent, sub.id, now, item.day):
            return "taken"
        if not texts:
            return "empty"
        return await _send_digest(application.bot, store, sub, texts, now)


async def run_tick(application: Application) -> TickReport:
    """Send every digest that is due now; never raises (the job must keep running).

    Ticks do not overlap: while a big batch is still being sent, the next tick returns at once
    (the claims would keep the digests single anyway; this just saves the work).
    """
    report = TickReport()
    lock = application.bot_data.tick_lock
    if lock.locked():
        log.info("the previous digest tick is still sending; skipping this one")
        return report
    async with lock:
        try:
            await _tick(application, report)
        except StoreUnavailable as exc:  # said at start (schedule_digests); no traceback
            log.debug("no digests: %s", exc)
        except Exception:
            log.exception("digest tick failed")
    return report


async def _tick(application: Application, report: TickReport) -> None:
    bot_data = application.bot_data
    store, settings, index = bot_data.subscriptions, bot_data.settings, bot_data.index
    now = bot_data.now()
    pending, report.skipped = await asyncio.to_thread(plan, store, now, grace_of(settings))
    report.due = len(pending)
    if not pending:
        return
    builds = DigestBuilds(index, now, settings.digest_max_items)
    limit = asyncio.Semaphore(SEND_CONCURRENCY)
    outcomes = await asyncio.gather(
        *(_deliver(application, builds, limit, item, now) for item in pending),
        return_exceptions=True,
    )
    for item, outcome in zip(pending, outcomes, strict=True):
        if isinstance(outcome, BaseException):  # a bug; the others went out regardless
            log.error("digest %s failed", item.sub.id, exc_info=outcome)
            outcome = "failed"
        report.outcomes[item.sub.id] = outcome
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.built = len(builds)
    log.info(
        "digests: %d due, %d sent, %d empty, %d skipped, %d paused, %d failed (%d built)",
        report.due,
        report.sent,
        report.empty,
        report.skipped,
        report.paused,
        report.failed,
        report.built,
    )


async def digest_tick(context: BotContext) -> None:
    """The JobQueue callback."""
    await run_tick(context.application)


def schedule_digests(application: Application) -> Job | None:
    """Register the repeating tick (from `post_init`; calling it again replaces the job).
    None when the subscriptions store cannot take the claims that keep each digest single."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "digests need PTB's job queue: pip install 'python-telegram-bot[job-queue]'"
        )
    for old in job_queue.get_jobs_by_name(JOB_NAME):
        old.schedule_removal()
    store = application.bot_data.subscriptions
    try:  # a damaged or read-only store is said now, once, not at every tick
        log.debug("subscriptions schema %d", store.schema_version)
    except StoreUnavailable as exc:
        log.error("digests and /subscribe are unavailable (questions still work): %s", exc)
        return None
    if store.read_only:  # a digest that cannot be marked sent would go out at every tick
        log.error(
            "digests are off: %s is in a read-only folder, so no digest could be marked as sent "
            "(questions still work; give the data folder write access to send them)",
            store.path,
        )
        return None
    interval = application.bot_data.settings.digest_tick_seconds
    return job_queue.run_repeating(
        digest_tick,
        interval=interval,
        first=min(FIRST_TICK_SECONDS, interval),
        name=JOB_NAME,
        # a late tick still runs (once), and a slow one is never run twice at the same time
        job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )


# -- /digest ---------------------------------------------------------------------------------


async def send_digest_now(
    application: Application, message: Message, topic: str | None = None
) -> list[Message]:
    """`/digest [topic]`: the digest as it stands, in reply; marks nothing as sent."""
    bot_data = application.bot_data
    store, settings = bot_data.subscriptions, bot_data.settings
    now = bot_data.now()
    thread_id = message.message_thread_id if message.is_topic_message else None
    topic, since, zone, sub = preview_window(
        store, message.chat_id, thread_id, topic, now, grace_of(settings)
    )
    async with typing(message):
        items = await bot_data.search(
            select_digest, bot_data.index, since, now, topic, settings.digest_max_items
        )
    heading = "Your next digest so far" if sub else "News digest"
    texts = render_digest(items, topic=topic, since=since, tz=load_zone(zone), heading=heading)
    return await reply_html(message, texts, quote=None)
