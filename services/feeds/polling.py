"""`FeedPolling`: a long-running program's poller and what its last poll did.

A poll fetches feeds and pages and embeds the new articles, which takes seconds to minutes, so
it runs in a worker thread (`asyncio.to_thread`) and the event loop keeps serving meanwhile
(`NewsIndex.ingest` is safe while searches run). Polls never overlap: `poll` waits for the one
running, then polls; a scheduler that would rather skip its turn checks `running` first. Across
processes (several bot workers on one feed list) one polls at a time and the others skip.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.feeds.poller import FeedPoller
from services.feeds.registry import FeedList
from services.feeds.reports import PollReport


@dataclass
class FeedPolling:
    """The application's poller and what its last poll did (the bot keeps one in `bot_data`)."""

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
                report = await asyncio.to_thread(self._poll_in_turn)
            except Exception as exc:
                self.last_failure = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self.last_finished_at = datetime.now(UTC)
            self.last_report, self.last_failure = report, None
            return report

    def _poll_in_turn(self) -> PollReport:
        """Poll unless another process sharing the feed list is polling it now."""
        with self.feedlist.polling_turn() as mine:
            if not mine:
                return PollReport(elsewhere=True, started_at=datetime.now(UTC))
            return self.poller.poll_all()

    def take_over(self, old: FeedPolling) -> None:
        """Replace `old` (settings reloaded): share its lock, so a poll it is running is not
        overlapped, keep its last report, and close its poller unless that poll still runs."""
        self.lock, self.last_report = old.lock, old.last_report
        if not old.running:
            old.close_now()

    def close_now(self) -> None:
        """Close the HTTP client and the feed list's connections (a later use reopens them)."""
        self.poller.close()
        self.poller.feedlist.close()

    async def close(self) -> None:
        """Let a running poll finish, then close the HTTP client and the feed list."""
        async with self.lock:
            self.close_now()
