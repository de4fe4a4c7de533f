"""Subscriptions and each chat's time zone: their own SQLite file (`DATA_DIR/bot.sqlite`), or
PostgreSQL tables shared by several bot workers when `DATABASE_URL` is set.

`mark_sent` / `mark_skipped` are atomic and monotonic per local date: they double as the claim
that keeps a digest from going out twice (see `services.subscriptions.schedule`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from db.open import open_database
from db.sqlite import SchemaTooNew
from services.subscriptions.requests import (
    ID_ALPHABET,
    ID_LENGTH,
    TOPIC_MAX_CHARS,
    parse_hhmm,
)
from services.subscriptions.schedule import Subscription, as_utc, canonical_zone

# A file written by a newer version of this code (the name the bot has always used).
SchemaError = SchemaTooNew


class DuplicateSubscriptionError(ValueError):
    """Raised by `add` for an exact duplicate; `existing` is the subscription already there."""

    def __init__(self, existing: Subscription) -> None:
        super().__init__(f"Already subscribed: {existing.id}")
        self.existing = existing


# --------------------------------------------------------------------------------------------
# Storage

# Each entry is one schema version; never edit a released one, append a new one instead.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE subscriptions (
            id TEXT PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            message_thread_id INTEGER,
            local_time TEXT NOT NULL,
            tz TEXT NOT NULL,
            topic TEXT,
            created_by INTEGER,
            created_at TEXT NOT NULL,
            last_sent_at TEXT,
            last_sent_local_date TEXT,
            paused_at TEXT,
            pause_reason TEXT
        )""",
        "CREATE INDEX subscriptions_chat ON subscriptions(chat_id)",
        """CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            tz TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    ),
)


def new_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day(value: date | str) -> str:
    """Validate and normalise a local date to `YYYY-MM-DD` (ISO strings sort chronologically)."""
    return (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()


def _topic_key(topic: str | None) -> str:
    return " ".join(topic.casefold().split()) if topic else ""


def _from_row(row: Any) -> Subscription:
    last_day = row["last_sent_local_date"]
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        thread_id=row["message_thread_id"],
        hhmm=row["local_time"],
        tz=row["tz"],
        topic=row["topic"],
        created_by=row["created_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        last_sent_at=_dt(row["last_sent_at"]),
        last_sent_local_date=date.fromisoformat(last_day) if last_day else None,
        paused_at=_dt(row["paused_at"]),
        pause_reason=row["pause_reason"],
    )


class SubscriptionStore:
    """Subscriptions in a SQLite file or a PostgreSQL database (numbered migrations in both)."""

    def __init__(self, location: str | Path) -> None:
        self.db = open_database(
            location,
            MIGRATIONS,
            store="subscriptions",
            what="subscriptions database",
        )
        self.path = self.db.path

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SubscriptionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.version

    @property
    def read_only(self) -> bool:
        """A file in a read-only folder: subscriptions can be listed, no digest can be claimed."""
        return self.db.read_only

    # -- subscriptions ----------------------------------------------------------------------

    def add(
        self,
        chat_id: int,
        *,
        hhmm: str,
        tz: str,
        topic: str | None,
        created_by: int | None,
        thread_id: int | None = None,
        now: datetime | None = None,
    ) -> Subscription:
        """Store a new subscription; raises DuplicateSubscriptionError for an exact duplicate.

        A duplicate is the same chat, forum thread, time, zone and topic (topic compared without
        case and extra spaces). It fires only from its first occurrence at or after `now`.
        """
        hhmm = parse_hhmm(hhmm)
        tz = canonical_zone(tz)
        topic = " ".join(topic.split())[:TOPIC_MAX_CHARS] if topic and topic.strip() else None
        created = as_utc(now) if now is not None else datetime.now(UTC)
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT * FROM subscriptions WHERE chat_id=? AND local_time=? AND tz=? "
                "AND message_thread_id IS ?",
                (chat_id, hhmm, tz, thread_id),
            ).fetchall()
            for row in rows:
                if _topic_key(row["topic"]) == _topic_key(topic):
                    raise DuplicateSubscriptionError(_from_row(row))
            sub_id = self._unused_id(conn)
            conn.execute(
                "INSERT INTO subscriptions (id, chat_id, message_thread_id, local_time, tz, "
                "topic, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sub_id, chat_id, thread_id, hhmm, tz, topic, created_by, _iso(created)),
            )
            row = conn.execute("SELECT * FROM subscriptions WHERE id=?", (sub_id,)).fetchone()
        return _from_row(row)

    @staticmethod
    def _unused_id(conn: Any) -> str:
        for _ in range(100):
            sub_id = new_id()
            if not conn.execute("SELECT 1 FROM subscriptions WHERE id=?", (sub_id,)).fetchone():
                return sub_id
        raise RuntimeError("could not find a free subscription id")  # pragma: no cover

    def get(self, sub_id: str) -> Subscription | None:
        rows = self.db.query("SELECT * FROM subscriptions WHERE id=?", (sub_id.strip().upper(),))
        return _from_row(rows[0]) if rows else None

    def list_for_chat(self, chat_id: int) -> list[Subscription]:
        rows = self.db.query(
            "SELECT * FROM subscriptions WHERE chat_id=? ORDER BY local_time, created_at",
            (chat_id,),
        )
        return [_from_row(row) for row in rows]

    def active(self) -> list[Subscription]:
        """Subscriptions the scheduler should look at (not paused)."""
        rows = self.db.query(
            "SELECT * FROM subscriptions WHERE paused_at IS NULL ORDER BY chat_id, local_time"
        )
        return [_from_row(row) for row in rows]

    def remove(self, chat_id: int, sub_id: str) -> bool:
        """Delete one subscription; False if the id is unknown or belongs to another chat."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "DELETE FROM subscriptions WHERE id=? AND chat_id=?",
                (sub_id.strip().lstrip("#").upper(), chat_id),
            )
        return cursor.rowcount > 0

    def remove_all(self, chat_id: int) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM subscriptions WHERE chat_id=?", (chat_id,)).rowcount

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Follow a group upgraded to a supergroup (Telegram gives it a new chat id)."""
        with self.db.write() as conn:
            moved = conn.execute(
                "UPDATE subscriptions SET chat_id=? WHERE chat_id=?", (new_chat_id, old_chat_id)
            ).rowcount
            conn.execute(  # keep the new chat's own zone if it already has one
                "INSERT INTO chats (chat_id, tz, updated_at) "
                "SELECT ?, tz, updated_at FROM chats WHERE chat_id=? ON CONFLICT DO NOTHING",
                (new_chat_id, old_chat_id),
            )
            conn.execute("DELETE FROM chats WHERE chat_id=?", (old_chat_id,))
        return moved

    # -- sending state ----------------------------------------------------------------------

    def mark_sent(self, sub_id: str, sent_at_utc: datetime, local_date: date | str) -> bool:
        """Record a digest for `local_date`; False if that date (or a later one) was handled.

        Atomic and monotonic, so it doubles as a claim: call it before sending and send only on
        True, and no local date is ever sent twice, restarts and concurrent workers included.
        """
        day = _day(local_date)
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE subscriptions SET last_sent_at=?, last_sent_local_date=? WHERE id=? "
                "AND (last_sent_local_date IS NULL OR last_sent_local_date < ?)",
                (_iso(sent_at_utc), day, sub_id.upper(), day),
            )
        return cursor.rowcount > 0

    def mark_skipped(self, sub_id: str, local_date: date | str) -> bool:
        """Give up on a missed `local_date` without moving `last_sent_at` (the news window)."""
        day = _day(local_date)
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE subscriptions SET last_sent_local_date=? WHERE id=? "
                "AND (last_sent_local_date IS NULL OR last_sent_local_date < ?)",
                (day, sub_id.upper(), day),
            )
        return cursor.rowcount > 0

    def pause_chat(self, chat_id: int, reason: str, now: datetime | None = None) -> int:
        """Stop digests to a chat that blocked or removed the bot; returns how many paused."""
        paused_at = as_utc(now) if now is not None else datetime.now(UTC)
        with self.db.write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET paused_at=?, pause_reason=? "
                "WHERE chat_id=? AND paused_at IS NULL",
                (_iso(paused_at), reason, chat_id),
            ).rowcount

    def resume_chat(self, chat_id: int) -> int:
        """Undo `pause_chat`; missed days are not sent afterwards (`due` skips them)."""
        with self.db.write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET paused_at=NULL, pause_reason=NULL "
                "WHERE chat_id=? AND paused_at IS NOT NULL",
                (chat_id,),
            ).rowcount

    # -- chats ------------------------------------------------------------------------------

    def chat_timezone(self, chat_id: int) -> str | None:
        rows = self.db.query("SELECT tz FROM chats WHERE chat_id=?", (chat_id,))
        return rows[0]["tz"] if rows else None

    def set_chat_timezone(self, chat_id: int, tz: str, now: datetime | None = None) -> str:
        """Remember the zone a chat last named; returns the canonical spelling stored."""
        tz = canonical_zone(tz)
        updated = as_utc(now) if now is not None else datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, tz, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE SET tz=excluded.tz, updated_at=excluded.updated_at",
                (chat_id, tz, _iso(updated)),
            )
        return tz
