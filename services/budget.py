"""How fast one user may ask: a token bucket per user, so one flood cannot starve other chats.

Each question takes a token; tokens come back at `per_minute` a minute up to `burst`. A user
over budget is told to slow down at most once a minute (`first_refusal`), and otherwise
ignored until a token is back: a reply to every flooded message would spend the bot's own flood
limit on the flooder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

NOTICE_EVERY = 60.0  # seconds between two slow-down notices to one user


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned_at: float = float("-inf")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait: float = 0.0  # seconds until the next question would be accepted
    first_refusal: bool = False  # tell the user (at most once a minute)


class QuestionBudget:
    """Per-user token buckets. `per_minute` 0 lets everyone through."""

    MAX_USERS = 50_000  # buckets kept; full ones are forgotten first

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute, self.burst, self.clock = per_minute, max(1, burst), clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, user_id: int, cost: float = 1.0) -> Verdict:
        if self.per_minute <= 0:
            return Verdict(True)
        now = self.clock()
        rate = self.per_minute / 60.0
        with self._lock:
            bucket = self._buckets.get(user_id)
            if bucket is None:
                if len(self._buckets) >= self.MAX_USERS:
                    self._forget_full(now, rate)
                bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return Verdict(True)
            first = now - bucket.warned_at >= NOTICE_EVERY
            if first:
                bucket.warned_at = now
            return Verdict(False, (cost - bucket.tokens) / rate, first)

    def _forget_full(self, now: float, rate: float) -> None:
        full = [
            user
            for user, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * rate >= self.burst
        ]
        for user in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[user]
