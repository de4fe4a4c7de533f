"""Live news on Telegram: the repeating job that polls the followed feeds.

The poll itself is `services.feeds.FeedPolling` (a worker thread; polls never overlap). This
module seeds the default feeds, keeps one `FeedPolling` in `bot_data` and schedules the job,
which skips its turn while another poll runs (/pollnow waits for it instead).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from telegram.ext import Application, Job

from bot.context import BotContext
from db.sqlite import SchemaTooNew
from services.feeds import FeedPoller, FeedPolling, ensure_default_feeds
from services.paths import feed_list

log = logging.getLogger(__name__)

JOB_NAME = "poll-feeds"
FIRST_POLL_SECONDS = 10.0  # after start-up: the bot is answering before the first fetch


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
    settings = application.bot_data.settings
    try:
        feeds = feed_list(settings)
        added = ensure_default_feeds(feeds, settings.feeds)
    except (OSError, sqlite3.Error, SchemaTooNew) as exc:
        log.warning("live news is off: cannot open the feed list in %s: %s", settings.data_dir, exc)
        return None
    if added:
        log.info("following %d default feed(s): %s", len(added), ", ".join(f.url for f in added))
    if feeds.read_only or application.bot_data.index.store.read_only:
        # every turn would fail to store what it fetched
        log.warning("live news is off: the data folder %s is read-only", settings.data_dir)
        return None

    polling = FeedPolling(FeedPoller(feeds, application.bot_data.index, **poller_options))
    old: FeedPolling | None = application.bot_data.feed_polling
    if old is not None:
        polling.take_over(old)
    application.bot_data.feed_polling = polling

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
    polling, application.bot_data.feed_polling = application.bot_data.feed_polling, None
    if polling is not None:
        await polling.close()


async def poll_feeds_job(context: BotContext) -> None:
    """The repeating job. A failure is a warning in the log, never an error for the bot: the
    poller has already logged each failing feed, and the next turn tries again."""
    polling: FeedPolling | None = context.bot_data.feed_polling
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
    context.bot_data.index.warmer.nudge()  # what it ingested is a new generation, cold


def polling_of(application: Application) -> FeedPolling:
    """The application's FeedPolling, made on first use when polling was never scheduled."""
    polling: FeedPolling | None = application.bot_data.feed_polling
    if polling is None:
        bot_data = application.bot_data
        poller = FeedPoller(feed_list(bot_data.settings), bot_data.index)
        polling = bot_data.feed_polling = FeedPolling(poller)
    return polling


def polling_job(application: Application) -> Job | None:
    """The scheduled polling job, None when feeds poll on /pollnow only."""
    jobs = application.job_queue
    found = jobs.get_jobs_by_name(JOB_NAME) if jobs is not None else ()
    return found[0] if found else None
