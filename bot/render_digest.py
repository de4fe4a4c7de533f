"""Daily digests as Telegram HTML within Telegram's limits (pure functions, like `bot.render`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.render import (
    MESSAGE_LIMIT,
    OUTLET_CHARS,
    QUESTION_CHARS,
    TITLE_CHARS,
    _also_html,
    _clip,
    _link,
    _text,
    format_date,
    split_messages,
)

DIGEST_LINE_CHARS = 300
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_local_time(dt: datetime, tz: tzinfo) -> str:
    """`Wed 15 Jan 2025, 07:30` in `tz` (naive datetimes are taken as UTC), locale-free."""
    local = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(tz)
    return f"{_WEEKDAYS[local.weekday()]} {format_date(local)}, {local:%H:%M}"


def _digest_item_html(number: int, item: Any, tz: tzinfo | None) -> str:
    """One story: numbered linked title, its one-line summary, outlet and date, other outlets."""
    article = item.article
    title = _text(_clip(article.title, TITLE_CHARS)) or "Untitled"
    lines = [f"<b>{number}.</b> " + _link(f"<b>{title}</b>", article.url)]
    line = _clip(item.line or "", DIGEST_LINE_CHARS)
    if line:
        lines.append(f"<i>{_text(line)}</i>")
    meta = [_text(_clip(article.source, OUTLET_CHARS)) if article.source else ""]
    meta.append(format_date(article.published_at, tz))
    if any(meta):
        lines.append("— " + ", ".join(m for m in meta if m))
    also = _also_html(tuple(item.also or ()), tz)
    if also:
        lines.append(also)
    return "\n".join(lines)


def render_digest(
    items: Sequence[Any],
    *,
    topic: str | None,
    since: datetime,
    tz: tzinfo,
    heading: str = "Your daily digest",
    sub_id: str | None = None,
    limit: int = MESSAGE_LIMIT,
) -> list[str]:
    """A digest (`index.digest.DigestItem`s, best story first) as messages ready to send.

    The heading says what the news covers (topic, since when, in the reader's zone), so an
    empty digest still tells the reader the bot is alive. `sub_id` adds how to stop it.
    """
    about = f" on “{_text(_clip(topic, QUESTION_CHARS))}”" if topic and topic.strip() else ""
    when = format_local_time(since, tz)
    if items:
        stories = "1 story" if len(items) == 1 else f"{len(items)} stories"
        lead = f"<b>{_text(heading)}</b>{about}\n{stories} since {when}"
    else:
        lead = f"<b>{_text(heading)}</b>{about}\nNothing new since {when}."
    blocks = [lead, *(_digest_item_html(n, item, tz) for n, item in enumerate(items, start=1))]
    if sub_id:
        blocks.append(f"<i>Digest {_text(sub_id)} · stop it with /unsubscribe {_text(sub_id)}</i>")
    return split_messages(blocks, limit)
