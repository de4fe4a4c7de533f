"""Where each store lives in the data directory, and how to open it from the settings.

The bot and the command line both open their stores here, so neither imports the other.
"""

from __future__ import annotations

import os

from index import NewsIndex
from services.feeds.registry import FeedList
from services.inbox import Inbox
from services.settings import Settings
from services.subscriptions.store import SubscriptionStore

FEEDS_DB = "feeds.sqlite"  # the followed feeds (`FeedList`)
STORE_FILE = "bot.sqlite"  # digest subscriptions and chat time zones (`SubscriptionStore`)
INBOX_FILE = "inbox.sqlite"  # updates being handled, replayed after a crash (`Inbox`)


def open_index(settings: Settings, *, create: bool = False, serving: bool = False) -> NewsIndex:
    """The news index in `DATA_DIR`; `create` makes an empty one when there is none yet.

    `serving`: the process answers questions while feeds are ingested, so ingest gets one core
    fewer than the machine has (question p99 during an ingest stays near idle)."""
    return NewsIndex(
        settings.data_dir,
        settings.embedding_model,
        create=create,
        question_backend=settings.question_backend,
        ingest_threads=serving_ingest_threads() if serving else None,
    )


def serving_ingest_threads() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def feed_list(settings: Settings) -> FeedList:
    return FeedList(settings.data_dir / FEEDS_DB)


def open_inbox(settings: Settings) -> Inbox:
    return Inbox(settings.data_dir / INBOX_FILE)


def open_store(settings: Settings) -> SubscriptionStore:
    """The subscriptions live next to the index, in their own SQLite file."""
    return SubscriptionStore(settings.data_dir / STORE_FILE)
