"""What daily digests to send to whom, and what goes in them (no Telegram here).

`plan` decides every active subscription at one `now`: due ones come back with the local date
to claim and the news window, missed ones (later than the grace) are marked skipped at once.
`DigestBuilds` runs one `select_digest` per distinct window and topic. `preview_window` is what
`/digest` shows in a chat right now. The bot's digest job (`bot.digests`) sends the results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from index import NewsIndex
from index.digest import DigestItem, select_digest
from services.settings import Settings
from services.subscriptions import (
    Subscription,
    SubscriptionStore,
    digest_window_start,
    due,
    due_date,
    next_send,
)

log = logging.getLogger(__name__)

RECENT = timedelta(hours=24)  # /digest without a subscription: the last day's news

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def grace_of(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.digest_grace_minutes)


@dataclass(frozen=True)
class DueDigest:
    """One digest to send now."""

    sub: Subscription
    day: date  # the local date being sent: the key of the claim
    since: datetime  # the digest's news window starts here (read before the claim moves it)


def plan(store: SubscriptionStore, now: datetime, grace: timedelta) -> tuple[list[DueDigest], int]:
    """Decide every active subscription: (the due digests, how many were skipped).

    Blocking SQLite: call it in a thread from an event loop.
    """
    pending: list[DueDigest] = []
    skipped = 0
    for sub in store.active():
        try:
            decision = due(sub, now, grace)
            if decision == "wait":
                continue
            day = due_date(sub, now, grace)
            if decision == "send":
                pending.append(DueDigest(sub, day, digest_window_start(sub, now)))
            elif store.mark_skipped(sub.id, day):
                skipped += 1
                log.info(
                    "digest %s for chat %s on %s missed by more than the grace: skipped",
                    sub.id,
                    sub.chat_id,
                    day,
                )
        except Exception:  # one bad row (say, a zone that vanished) must not stop the others
            log.exception("cannot schedule digest %s", sub.id)
    return pending, skipped


class DigestBuilds:
    """One `select_digest` per distinct window and topic within a tick.

    Digests due in the same minute with the same topic (or none) cover the same window, so a
    thousand chats share one search. Awaiters share one task; a failure is logged once.
    """

    def __init__(self, index: NewsIndex, until: datetime, max_items: int) -> None:
        self.index, self.until, self.max_items = index, until, max_items
        self._tasks: dict[tuple[datetime, str | None], asyncio.Task[list[DigestItem] | None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def get(self, since: datetime, topic: str | None) -> Awaitable[list[DigestItem] | None]:
        key = (since, topic)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._build(since, topic))
        return asyncio.shield(self._tasks[key])

    async def _build(self, since: datetime, topic: str | None) -> list[DigestItem] | None:
        try:
            return await asyncio.to_thread(
                select_digest, self.index, since, self.until, topic, self.max_items
            )
        except Exception:
            log.exception("cannot build the digest since %s on %r", since, topic)
            return None


def preview_window(
    store: SubscriptionStore,
    chat_id: int,
    thread_id: int | None,
    topic: str | None,
    now: datetime,
    grace: timedelta,
) -> tuple[str | None, datetime, str, Subscription | None]:
    """(topic, since, zone, subscription) for `/digest` in a chat, right now.

    A topic: its news of the last day. None: what the chat's next digest would hold so far
    (the one in this forum topic first), or the last day's news when there is no subscription.
    """
    zone = store.chat_timezone(chat_id) or "UTC"
    if topic:
        return topic, now - RECENT, zone, None
    subs = [s for s in store.list_for_chat(chat_id) if not s.paused]
    subs = [s for s in subs if s.thread_id == thread_id] or subs
    if not subs:
        return None, now - RECENT, zone, None
    sub = min(subs, key=lambda s: next_send(s, now, grace))
    return sub.topic, digest_window_start(sub, now), sub.tz, sub
