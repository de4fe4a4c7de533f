"""/feeds, /pollnow and the feeds part of /stats as Telegram HTML (pure functions)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from bot.render import format_date
from services.feeds import Feed, FeedPolling, PollReport

LINES_PER_MESSAGE = 25  # /pollnow's per-feed lines, so a long feed list splits cleanly


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def ago(moment: datetime | None, now: datetime) -> str:
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


def due_in(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "not scheduled"
    seconds = (moment - now).total_seconds()
    return "in under a minute" if seconds < 60 else f"in {seconds // 60:.0f} min"


def feed_name(feed: Feed, report: PollReport | None) -> str:
    """The name given at /addfeed, else the feed's own title from the last poll, else its host."""
    if feed.name:
        return feed.name
    titles = {r.feed_id: r.name for r in report.feeds} if report else {}
    return titles.get(feed.id) or urlsplit(feed.url).hostname or feed.url


def _error_html(feed: Feed) -> str:
    streak = f"{feed.error_count} failure{'s' if feed.error_count != 1 else ''} in a row"
    return f"<b>Error</b> ({streak}): {_e(feed.last_error or '?')}"


def feed_html(feed: Feed, now: datetime, report: PollReport | None = None) -> str:
    """One feed for /feeds: id and name, address, last fetch, last new article, errors."""
    lines = [
        f"<b>#{feed.id} {_e(feed_name(feed, report))}</b>",
        _e(feed.url),
        f"Last fetch: {ago(feed.last_fetch_at, now)} · last new article: "
        f"{ago(feed.last_new_article_at, now)} · {feed.articles_seen:,} articles so far",
    ]
    if feed.last_error:
        lines.append(_error_html(feed))
    return "\n".join(lines)


def schedule_html(
    every_minutes: float | None, next_poll: datetime | None, running: bool, now: datetime
) -> str:
    """ "polled every 15 min, next poll in 12 min", or why there is no next poll.

    `every_minutes` is None when no job polls the feeds.
    """
    if every_minutes is None:
        every = "not polled automatically (use /pollnow)"
    else:
        every = f"polled every {every_minutes:g} min"
    if running:
        return f"{every}; a poll is running now"
    return f"{every}, next poll {due_in(next_poll, now)}" if every_minutes is not None else every


def last_poll_html(polling: FeedPolling, now: datetime) -> str:
    if polling.last_failure:
        failure = _e(polling.last_failure)
        return f"Last poll ({ago(polling.last_finished_at, now)}) failed: {failure}"
    if polling.last_report is None:
        return "No poll since the bot started."
    report = polling.last_report
    return f"Last poll ({ago(report.started_at, now)}): {_e(report.summary())}"


def feeds_html(
    feeds: Sequence[Feed], polling: FeedPolling, schedule: str, now: datetime
) -> list[str]:
    """/feeds: a head (count, schedule, last poll), then one block per feed."""
    count = f"{len(feeds)} feed{'s' if len(feeds) != 1 else ''}"
    head = f"<b>{count}</b>, {schedule}.\n" + last_poll_html(polling, now)
    return [head, *(feed_html(f, now, polling.last_report) for f in feeds)]


def feed_stats_html(
    feeds: Sequence[Feed], polling: FeedPolling | None, schedule: str, now: datetime
) -> list[str]:
    """The feeds section of /stats: one line per feed, and the last poll's summary.

    `polling` is None when live news is not set up (then `schedule` says so).
    """
    if polling is None and not feeds:
        return ["<b>Feeds</b>\nNone followed; add one with /addfeed URL."]
    report = polling.last_report if polling is not None else None
    lines = [f"<b>Feeds</b>: {len(feeds)}, {schedule}"]
    for feed in feeds:
        line = (
            f"• {_e(feed_name(feed, report))}: fetched {ago(feed.last_fetch_at, now)}, "
            f"last new article {ago(feed.last_new_article_at, now)}"
        )
        if feed.last_error:
            line += f". {_error_html(feed)}"
        lines.append(line)
    if polling is not None:
        lines.append(last_poll_html(polling, now))
    return chunks(lines)


def chunks(lines: Sequence[str], size: int = LINES_PER_MESSAGE) -> list[str]:
    """Lines grouped into blocks for `split_messages`, which only splits between blocks."""
    return ["\n".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def report_blocks(report: PollReport) -> list[str]:
    """/pollnow's answer: the summary, then one line per feed."""
    head = f"<b>Poll finished</b>: {_e(report.summary())}"
    return [head, *chunks([f"• {_e(line)}" for line in report.lines()])]
