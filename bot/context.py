"""What handlers and jobs share, typed: a dataclass as PTB's `bot_data` (see ContextTypes).

PTB creates `bot_data` empty when the application is built; `build_application` then sets each
service once. A service read before that raises AttributeError instead of a silent None.
Handlers take `context: BotContext` and read `context.bot_data.index`, `.settings`, ...
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from index import NewsIndex
from services.budget import QuestionBudget
from services.digests import Clock, utc_now
from services.feeds import FeedPolling
from services.questions import QuestionStore
from services.settings import Settings
from services.subscriptions import SubscriptionStore

T = TypeVar("T")


def _search_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="search")


@dataclass(eq=False)
class BotData:
    """The application's services, one instance per `Application`."""

    settings: Settings = field(init=False)
    index: NewsIndex = field(init=False)
    subscriptions: SubscriptionStore = field(init=False)
    questions: QuestionStore = field(init=False)  # behind "More" buttons
    feed_polling: FeedPolling | None = None  # live news, when the bot follows feeds
    budget: QuestionBudget = field(init=False)  # questions per user (flood control)
    clock: Clock = utc_now  # a callable returning an aware "now"; tests replace it to move time
    tick_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one digest tick at a time
    # Searches (CPU-bound) run on threads of their own, one per core: the small store reads and
    # writes on asyncio's default threads then never queue behind fifty questions, so each
    # reply leaves as soon as its answer is ready.
    search_pool: ThreadPoolExecutor = field(default_factory=_search_pool)

    async def search(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` (an index search) on the search threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.search_pool, functools.partial(function, *args))

    def now(self) -> datetime:
        """The application's clock, as aware UTC (a naive clock is a bug: refuse it)."""
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the digest clock returned a naive datetime: {now!r}")
        return now.astimezone(UTC)


BotContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
