"""Live news: the polling job, and /feeds, /addfeed, /removefeed, /pollnow for admins.

A poll fetches feeds and pages and embeds the new articles, which takes seconds to minutes, so
it runs in a worker thread (`asyncio.to_thread`) and questions keep being answered meanwhile
(`NewsIndex.ingest` is safe while searches run). Polls never overlap: the job skips its turn
while another poll runs, and /pollnow waits for it, then polls.
"""

from __future__ import annotations

import asyncio
import html
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, Job, filters

from bot.feeds_cli import FEEDS_DB, feed_list
from bot.handlers.admin import is_admin
from bot.handlers.common import INDEX, SETTINGS, news_index, reply_html, settings_of, typing
from bot.poller import FeedPoller, PollReport, ensure_default_feeds
from bot.render import format_date, split_messages
from corpus.feedlist import Feed, FeedList

log = logging.getLogger(__name__)

FEED_POLLING = "feed_polling"  # bot_data key of the application's `FeedPolling`
JOB_NAME = "poll-feeds"
FIRST_POLL_SECONDS = 10.0  # after start-up: the bot is answering before the first fetch
LINES_PER_MESSAGE = 25  # /pollnow's per-feed lines, so a long feed list splits cleanly

NEW_MESSAGES = filters.UpdateType.MESSAGE  # commands are not re-run when a message is edited

# For an admins-only command menu (BotCommandScopeChat); everyone else never sees them.


@dataclass
class FeedPolling:
    """The application's poller and what its last poll did; kept in `bot_data`."""

    poller: FeedPoller
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_report: PollReport | None = None
    last_failure: str | None = None  # poll_all itself raised (a broken feed list)
    last_finished_at: datetime | None = None

    @property
    def feedlist(self) -> FeedList:
        return self.poller.feedlist

    @property
    def running(self) -> bool:
        return self.lock.locked()

    async def poll(self) -> PollReport:
        """Poll every feed in a worker thread, after the poll already running (if any)."""
        async with self.lock:
            try:
                report = await asyncio.to_thread(self.poller.poll_all)
            except Exception as exc:
                self.last_failure = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self.last_finished_at = datetime.now(UTC)
            self.last_report, self.last_failure = report, None
            return report


# --- wiring -----------------------------------------------------------------------------------


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


def schedule_feed_polling(
    application: Application, *, first: float | None = None, **poller_options: Any
) -> FeedPolling | None:
    """From post_init: follow the default feeds once, keep a poller, poll every few minutes.

    The defaults are `settings.feeds`, each seeded only the first time it appears (an admin's
    /removefeed sticks): `Settings(feeds=[])` seeds none, tests pass local URLs. The job
    polls every `feed_poll_minutes`, first after `first` seconds (`FIRST_POLL_SECONDS`, or the
    interval when shorter). `poller_options` go to `FeedPoller`. Calling it again replaces the
    job and the poller. Returns None, and the bot runs without live news, when the feed list
    cannot be opened.
    """
    settings = application.bot_data[SETTINGS]
    try:
        feeds = feed_list(settings)
        added = ensure_default_feeds(feeds, settings.feeds)
    except (OSError, sqlite3.Error) as exc:
        log.warning("live news is off: cannot open the feed list in %s: %s", settings.data_dir, exc)
        return None
    if added:
        log.info("following %d default feed(s): %s", len(added), ", ".join(f.url for f in added))

    polling = FeedPolling(FeedPoller(feeds, application.bot_data[INDEX], **poller_options))
    old: FeedPolling | None = application.bot_data.get(FEED_POLLING)
    if old is not None:  # the same lock: a poll the old poller is running is not overlapped
        polling.lock, polling.last_report = old.lock, old.last_report
        if not old.running:
            old.poller.close()
    application.bot_data[FEED_POLLING] = polling

    jobs = application.job_queue
    if not settings.feed_polling:
        log.info("background feed polling is off (FEED_POLLING): feeds poll on /pollnow only")
        return polling
    if jobs is None:
        log.warning("no job queue (python-telegram-bot[job-queue]): feeds poll on /pollnow only")
        return polling
    for job in jobs.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    interval = settings.feed_poll_minutes * 60
    jobs.run_repeating(
        poll_feeds_job,
        interval=interval,
        first=min(FIRST_POLL_SECONDS, interval) if first is None else first,
        name=JOB_NAME,
        # The job skips its own turn while a poll runs (below): APScheduler need not refuse
        # (and warn about) a second instance; missed turns run once, not in a burst.
        job_kwargs={"max_instances": 2, "coalesce": True},
    )
    log.info("polling %d feed(s) every %g min", len(feeds.list()), settings.feed_poll_minutes)
    return polling


async def stop_feed_polling(application: Application) -> None:
    """For post_shutdown: no more polls, let a running one finish, close the HTTP client."""
    if application.job_queue is not None:
        for job in application.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
    polling: FeedPolling | None = application.bot_data.pop(FEED_POLLING, None)
    if polling is not None:
        async with polling.lock:
            polling.poller.close()


async def poll_feeds_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job. A failure is a warning in the log, never an error for the bot: the
    poller has already logged each failing feed, and the next turn tries again."""
    polling: FeedPolling | None = context.bot_data.get(FEED_POLLING)
    if polling is None:
        return
    if polling.running:
        log.info("feed poll skipped: the previous one is still running")
        return
    try:
        await polling.poll()
    except Exception:
        # Traceback only when debugging: the same failure comes back every few minutes.
        log.warning(
            "feed poll failed: %s", polling.last_failure, exc_info=log.isEnabledFor(logging.DEBUG)
        )


def _polling(context: ContextTypes.DEFAULT_TYPE) -> FeedPolling:
    """The application's FeedPolling, made on first use when polling was never scheduled."""
    polling: FeedPolling | None = context.bot_data.get(FEED_POLLING)
    if polling is None:
        poller = FeedPoller(feed_list(settings_of(context)), news_index(context))
        polling = context.bot_data[FEED_POLLING] = FeedPolling(poller)
    return polling


def _job(context: ContextTypes.DEFAULT_TYPE) -> Job | None:
    jobs = context.application.job_queue
    found = jobs.get_jobs_by_name(JOB_NAME) if jobs is not None else ()
    return found[0] if found else None


# --- rendering --------------------------------------------------------------------------------


def _ago(moment: datetime | None, now: datetime) -> str:
    """ "3 min ago" for the last two days, a date before that; "never" without a time."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600:.0f} h ago"
    return format_date(moment)


def _in(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "not scheduled"
    seconds = (moment - now).total_seconds()
    return "in under a minute" if seconds < 60 else f"in {seconds // 60:.0f} min"


def _name(feed: Feed, report: PollReport | None) -> str:
    """The name given at /addfeed, else the feed's own title from the last poll, else its host."""
    if feed.name:
        return feed.name
    titles = {r.feed_id: r.name for r in report.feeds} if report else {}
    return titles.get(feed.id) or urlsplit(feed.url).hostname or feed.url


def _error_html(feed: Feed) -> str:
    streak = f"{feed.error_count} failure{'s' if feed.error_count != 1 else ''} in a row"
    return f"<b>Error</b> ({streak}): {html.escape(feed.last_error or '?', quote=False)}"


def feed_html(feed: Feed, now: datetime, report: PollReport | None = None) -> str:
    """One feed for /feeds: id and name, address, last fetch, last new article, errors."""
    name = html.escape(_name(feed, report), quote=False)
    lines = [
        f"<b>#{feed.id} {name}</b>",
        html.escape(feed.url, quote=False),
        f"Last fetch: {_ago(feed.last_fetch_at, now)} · last new article: "
        f"{_ago(feed.last_new_article_at, now)} · {feed.articles_seen:,} articles so far",
    ]
    if feed.last_error:
        lines.append(_error_html(feed))
    return "\n".join(lines)


def _schedule_html(context: ContextTypes.DEFAULT_TYPE, polling: FeedPolling, now: datetime) -> str:
    """ "polled every 15 min, next poll in 12 min", or why there is no next poll."""
    job = _job(context)
    if job is None:
        every = "not polled automatically (use /pollnow)"
    else:
        every = f"polled every {settings_of(context).feed_poll_minutes:g} min"
    if polling.running:
        return f"{every}; a poll is running now"
    return f"{every}, next poll {_in(job.next_t, now)}" if job else every


def _last_poll_html(polling: FeedPolling, now: datetime) -> str:
    if polling.last_failure:
        failure = html.escape(polling.last_failure, quote=False)
        return f"Last poll ({_ago(polling.last_finished_at, now)}) failed: {failure}"
    if polling.last_report is None:
        return "No poll since the bot started."
    report = polling.last_report
    summary = html.escape(report.summary(), quote=False)
    return f"Last poll ({_ago(report.started_at, now)}): {summary}"


async def feed_stats_blocks(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """The feeds section of /stats: one line per feed, and the last poll's summary."""
    polling: FeedPolling | None = context.bot_data.get(FEED_POLLING)
    now = datetime.now(UTC)
    if polling is None:  # live news not set up: only read a feed list that exists
        path = settings_of(context).data_dir / FEEDS_DB
        feeds = await asyncio.to_thread(lambda: FeedList(path).list()) if path.exists() else []
        if not feeds:
            return ["<b>Feeds</b>\nNone followed; add one with /addfeed URL."]
        report = None
        header = f"<b>Feeds</b>: {len(feeds)}, not polled automatically (use /pollnow)"
    else:
        feeds = await asyncio.to_thread(polling.feedlist.list)
        report = polling.last_report
        header = f"<b>Feeds</b>: {len(feeds)}, {_schedule_html(context, polling, now)}"
    lines = [header]
    for feed in feeds:
        name = html.escape(_name(feed, report), quote=False)
        line = (
            f"• {name}: fetched {_ago(feed.last_fetch_at, now)}, "
            f"last new article {_ago(feed.last_new_article_at, now)}"
        )
        if feed.last_error:
            line += f". {_error_html(feed)}"
        lines.append(line)
    if polling is not None:
        lines.append(_last_poll_html(polling, now))
    return _chunks(lines)


def _chunks(lines: Sequence[str], size: int = LINES_PER_MESSAGE) -> list[str]:
    """Lines grouped into blocks for `split_messages`, which only splits between blocks."""
    return ["\n".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def report_blocks(report: PollReport) -> list[str]:
    """/pollnow's answer: the summary, then one line per feed."""
    head = f"<b>Poll finished</b>: {html.escape(report.summary(), quote=False)}"
    return [head, *_chunks([f"• {html.escape(line, quote=False)}" for line in report.lines()])]


# --- commands ---------------------------------------------------------------------------------


async def feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every followed feed: last fetch, last new article, errors; ids for /removefeed."""
    if not await is_admin(update, context):
        return
    polling = _polling(context)
    feeds = await asyncio.to_thread(polling.feedlist.list)
    now = datetime.now(UTC)
    if not feeds:
        text = "I follow no feeds. Add one with <code>/addfeed URL [name]</code>."
        await update.effective_message.reply_text(text)
        return
    count = f"{len(feeds)} feed{'s' if len(feeds) != 1 else ''}"
    head = f"<b>{count}</b>, {_schedule_html(context, polling, now)}.\n"
    head += _last_poll_html(polling, now)
    blocks = [head, *(feed_html(f, now, polling.last_report) for f in feeds)]
    await reply_html(update.effective_message, split_messages(blocks), quote=None)


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Follow a feed; it is fetched at the next poll, or at once with /pollnow."""
    if not await is_admin(update, context):
        return
    message = update.effective_message
    if not context.args:
        await message.reply_text("Usage: <code>/addfeed URL [name]</code>")
        return
    url, name = context.args[0], " ".join(context.args[1:]) or None
    try:
        feed, created = await asyncio.to_thread(_polling(context).feedlist.add, url, name)
    except ValueError as exc:
        await message.reply_text(f"I cannot follow that: {html.escape(str(exc), quote=False)}")
        return
    label = f"#{feed.id} {html.escape(feed.name or feed.url, quote=False)}"
    if created:
        job = _job(context)
        when = f"at the next poll ({_in(job.next_t, datetime.now(UTC))})" if job else "later"
        text = f"Following {label}. I will fetch it {when}, or now with /pollnow."
    else:
        text = f"I already follow {label}; see /feeds."
    await message.reply_text(text)


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
    feedlist = _polling(context).feedlist
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


async def poll_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch every feed now (after a poll already running) and say what came in."""
    if not await is_admin(update, context):
        return
    message = update.effective_message
    polling = _polling(context)
    try:
        async with typing(message):
            report = await polling.poll()
    except Exception:
        log.warning("feed poll (/pollnow) failed: %s", polling.last_failure)
        failure = html.escape(polling.last_failure or "?", quote=False)
        await message.reply_text(f"The poll failed: {failure}")
        return
    await reply_html(message, split_messages(report_blocks(report)), quote=None)
