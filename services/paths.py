"""Where each store lives in the data directory, and how to open it from the settings.

The bot and the command line both open their stores here, so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path

from index import NewsIndex
from services.feeds.registry import FeedList
from services.inbox import Inbox
from services.questions import QuestionStore
from services.settings import Settings
from services.subscriptions.store import SubscriptionStore

FEEDS_DB = "feeds.sqlite"  # the followed feeds (`FeedList`)
STORE_FILE = "bot.sqlite"  # digest subscriptions and chat time zones (`SubscriptionStore`)
QUESTIONS_FILE = "questions.sqlite"  # the questions behind "More" buttons (`QuestionStore`)
INBOX_FILE = "inbox.sqlite"  # updates being handled, replayed after a crash (`Inbox`)
MILVUS_FILE = "milvus.db"  # milvus-lite, when VECTOR_BACKEND=milvus without MILVUS_URI


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
        milvus_uri=milvus_uri(settings),
        database_url=index_database_url(settings),
    )


def index_database_url(settings: Settings) -> str | None:
    """The index's rows go to PostgreSQL with the other shared stores when its vectors and
    BM25 are on Milvus; with FAISS (files on one machine) they stay in `DATA_DIR`."""
    location = shared_location(settings, "")
    return location if isinstance(location, str) and settings.vector_backend == "milvus" else None


def milvus_uri(settings: Settings) -> str | None:
    """Milvus when VECTOR_BACKEND=milvus: MILVUS_URI, or milvus-lite in the data directory."""
    if settings.vector_backend != "milvus":
        return None
    return settings.milvus_uri or str(settings.data_dir / MILVUS_FILE)


def serving_ingest_threads() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def shared_location(settings: Settings, file_name: str) -> str | Path:
    """A shared store's place: the PostgreSQL database when `DATABASE_URL` is set (several
    workers share it), else its SQLite file in `DATA_DIR`."""
    url = settings.database_url.get_secret_value().strip() if settings.database_url else ""
    return url or settings.data_dir / file_name


def feed_list(settings: Settings) -> FeedList:
    return FeedList(shared_location(settings, FEEDS_DB))


def open_inbox(settings: Settings) -> Inbox:
    """This worker's updates in hand: its own file, so a restarted worker replays only its own."""
    name = f"inbox-{settings.worker_name}.sqlite" if settings.worker_name else INBOX_FILE
    return Inbox(settings.data_dir / name)


def open_store(settings: Settings) -> SubscriptionStore:
    """The subscriptions: next to the index in their own SQLite file, or on PostgreSQL."""
    return SubscriptionStore(shared_location(settings, STORE_FILE))


def open_questions(settings: Settings) -> QuestionStore:
    """The questions behind "More" buttons: shared with other workers on PostgreSQL."""
    return QuestionStore(shared_location(settings, QUESTIONS_FILE))
