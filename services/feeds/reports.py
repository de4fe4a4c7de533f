"""What a feed poll did: one `FeedResult` per feed and the `PollReport` of a whole poll, with
the lines `/pollnow`, `/stats` and `newsbot feeds poll` show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FeedResult:
    """What one poll did for one feed."""

    url: str
    name: str | None = None
    feed_id: int | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    not_modified: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """One line for `/stats` and the CLI."""
        label = self.name or self.url
        if self.error:
            return f"{label}: FAILED: {self.error}"
        if self.not_modified:
            return f"{label}: not modified"
        text = f"{label}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.duplicates:
            text += f", {self.duplicates} duplicate"
        if self.warnings:
            text += f" ({len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''})"
        return text


@dataclass
class PollReport:
    """One `poll_all`: a result per feed (in feed-list order), totals, and how long it took."""

    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0
    started_at: datetime | None = None
    elsewhere: bool = False  # not polled: another worker was polling the same feed list

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.feeds)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.feeds)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.feeds)

    @property
    def not_modified(self) -> int:
        return sum(f.not_modified for f in self.feeds)

    @property
    def failed(self) -> int:
        return sum(not f.ok for f in self.feeds)

    def summary(self) -> str:
        if self.elsewhere:
            return "another worker is polling the feeds right now; its articles arrive shortly"
        if not self.feeds:
            return "no feeds to poll"
        count = len(self.feeds)
        return (
            f"{count} feed{'s' if count != 1 else ''} polled in {self.seconds:.1f} s: "
            f"{self.new} new, {self.updated} updated, {self.duplicates} duplicate; "
            f"{self.not_modified} not modified, {self.failed} failed"
        )

    def lines(self) -> list[str]:
        return [f.line() for f in self.feeds]

    def __str__(self) -> str:
        return "\n".join([self.summary(), *self.lines()])
