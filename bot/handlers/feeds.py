"""/feeds, /addfeed, /removefeed, /pollnow (admins only) and the feeds part of /stats.

The polling itself is `bot.feed_polling` (the job) and `services.feeds` (the poller); the HTML
is `bot.render_feeds`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext
from bot.feed_polling import polling_job, polling_of
from bot.handlers.access import is_admin
from bot.handlers.common import reply_html, typing
from bot.render import split_messages
from bot.render_feeds import (
    due_in,
    feed_stats_html,
    feeds_html,
    report_blocks,
    schedule_html,
)
from services.feeds import Feed, FeedList, FeedPolling
from services.paths import FEEDS_DB, shared_location

log = logging.getLogger(__name__)

NEW_MESSAGES = filters.UpdateType.MESSAGE  # commands are not re-run when a message is edited


def register_feed_handlers(application: Application) -> None:
    """Add the admin feed commands; safe to call before or after the other handlers."""
    if any(getattr(h, "callback", None) is feeds_command for h in application.handlers.get(0, [])):
        return
    handlers = [
        CommandHandler("feeds", feeds_command, filters=NEW_MESSAGES),
        CommandHandler("addfeed", add_feed, filters=NEW_MESSAGES),
        CommandHandler("removefeed", remove_feed, filters=NEW_MESSAGES),
        CommandHandler("pollnow", poll_now, filters=NEW_MESSAGES),
    ]
    application.add_handlers(handlers)
    # A group runs only its first matching handler, and group 0 ends with the catch-all for
    # unknown commands in private chats: these go in front of it, whenever they are added.
    group = application.handlers[0]
    group[:] = [*handlers, *(h for h in group if h not in handlers)]


def _schedule(context: BotContext, polling: FeedPolling, now: datetime) -> str:
    job = polling_job(context.application)
    every = context.bot_data.settings.feed_poll_minutes if job is not None else None
    return schedule_html(every, job.next_t if job else None, polling.running, now)


def _read_feed_list(path: str | Path) -> list[Feed]:
    with FeedList(path) as feeds:
        return feeds.list()


async def feed_stats_blocks(context: BotContext) -> list[str]:
    """The feeds section of /stats: one line per feed, and the last poll's summary."""
    polling: FeedPolling | None = context.bot_data.feed_polling
    now = datetime.now(UTC)
    if polling is None:  # live news not set up: only read a feed list that exists
        path = shared_location(context.bot_data.settings, FEEDS_DB)
        exists = not isinstance(path, Path) or path.exists()
        feeds = await asyncio.to_thread(_read_feed_list, path) if exists else []
        schedule = "not polled automatically (use /pollnow)"
    else:
        feeds = await asyncio.to_thread(polling.feedlist.list)
        schedule = _schedule(context, polling, now)
    return feed_stats_html(feeds, polling, schedule, now)


# --- commands ---------------------------------------------------------------------------------


async def feeds_command(update: Update, context: BotContext) -> None:
    """Every followed feed: last fetch, last new article, errors; ids for /removefeed."""
    if not await is_admin(update, context):
        return
    polling = polling_of(context.application)
    feeds = await asyncio.to_thread(polling.feedlist.list)
    now = datetime.now(UTC)
    if not feeds:
        text = "I follow no feeds. Add one with <code>/addfeed URL [name]</code>."
        await update.effective_message.reply_text(text)
        return
    blocks = feeds_html(feeds, polling, _schedule(context, polling, now), now)
    await reply_html(update.effective_message, split_messages(blocks), quote=None)


async def add_feed(update: Update, context: BotContext) -> None:
    """Follow a feed; it is fetched at the next poll, or at once with /pollnow."""
    if not await is_admin(update, context):
        return
    message = update.effective_message
    if not context.args:
        await message.reply_text("Usage: <code>/addfeed URL [name]</code>")
        return
    url, name = context.args[0], " ".join(context.args[1:]) or None
    try:
        feed, created = await asyncio.to_thread(
            polling_of(context.application).feedlist.add, url, name
        )
    except ValueError as exc:
        await message.reply_text(f"I cannot follow that: {html.escape(str(exc), quote=False)}")
        return
    label = f"#{feed.id} {html.escape(feed.name or feed.url, quote=False)}"
    if created:
        job = polling_job(context.application)
        when = f"at the next poll ({due_in(job.next_t, datetime.now(UTC))})" if job else "later"
        text = f"Following {label}. I will fetch it {when}, or now with /pollnow."
    else:
        text = f"I already follow {label}; see /feeds."
    await message.reply_text(text)


async def remove_feed(update: Update, context: BotContext) -> None:
    """Stop following a feed, by its address or its #id; its articles stay in the index."""
    if not await is_admin(update, context):
        return
    message = update.effective_message
    key = " ".join(context.args or ()).strip().removeprefix("#")
    if not key:
        await message.reply_text(
            "Usage: <code>/removefeed URL</code> or <code>/removefeed #id</code>"
        )
        return
    feedlist = polling_of(context.application).feedlist
    try:
        feed = await asyncio.to_thread(feedlist.get, key)
        removed = feed is not None and await asyncio.to_thread(feedlist.remove, feed.id)
    except ValueError as exc:
        await message.reply_text(f"{html.escape(str(exc), quote=False)}; see /feeds for the ids.")
        return
    if not removed or feed is None:
        await message.reply_text(f"I do not follow {html.escape(key, quote=False)}; see /feeds.")
        return
    label = html.escape(feed.name or feed.url, quote=False)
    await message.reply_text(
        f"Stopped following #{feed.id} {label}. Its articles stay in the index."
    )


async def poll_now(update: Update, context: BotContext) -> None:
    """Fetch every feed now (after a poll already running) and say what came in."""
    if not await is_admin(update, context):
        return
    message = update.effective_message
    polling = polling_of(context.application)
    try:
        async with typing(message):
            report = await polling.poll()
    except Exception:
        log.warning("feed poll (/pollnow) failed: %s", polling.last_failure)
        failure = html.escape(polling.last_failure or "?", quote=False)
        await message.reply_text(f"The poll failed: {failure}")
        return
    await reply_html(message, split_messages(report_blocks(report)), quote=None)
