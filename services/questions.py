"""The questions behind "More" buttons, stored so any worker (and the next start) can page on.

Callback data holds at most 64 bytes, so a button carries only a short random key (plus where
the next page starts); the question and the articles already shown are kept here, in SQLite
(`DATA_DIR/questions.sqlite`) or in PostgreSQL with the other shared state. A press claims its
question atomically, so two presses (on one worker or two) never fetch the same page twice.
Questions older than `KEEP_SECONDS` are forgotten and their buttons politely expire.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from db.open import open_database

KEEP_SECONDS = 7 * 24 * 3600
BUSY_SECONDS = 120.0  # a claim older than this was left by a crash: the next press may take it
PRUNE_EVERY = 200  # adds between two prunes

_TABLE = """CREATE TABLE more_questions (
    key TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    shown TEXT NOT NULL,
    shown_count INTEGER NOT NULL,
    busy_until DOUBLE PRECISION,
    created DOUBLE PRECISION NOT NULL
)"""
MIGRATIONS = [[_TABLE, "CREATE INDEX more_questions_created ON more_questions(created)"]]


@dataclass(frozen=True)
class Asked:
    """A question with a "More" button: the article ids shown so far, in order."""

    question: str
    shown: tuple[str, ...]


class QuestionStore:
    """Questions by short random key; `claim` / `release` around fetching the next page."""

    def __init__(self, location: str | Path) -> None:
        self.db = open_database(location, MIGRATIONS, store="questions", what="question store")
        self._adds = 0

    def close(self) -> None:
        self.db.close()

    def add(self, question: str, shown: list[str], now: float | None = None) -> str:
        key = secrets.token_urlsafe(6)  # 8 characters
        now = time.time() if now is None else now
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO more_questions (key, question, shown, shown_count, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, question, json.dumps(shown), len(shown), now),
            )
        self._adds += 1
        if self._adds % PRUNE_EVERY == 0:
            self.prune(now)
        return key

    def get(self, key: str) -> Asked | None:
        rows = self.db.query("SELECT question, shown FROM more_questions WHERE key=?", (key,))
        return Asked(rows[0][0], tuple(json.loads(rows[0][1]))) if rows else None

    def claim(self, key: str, start: int, now: float | None = None) -> Asked | None:
        """Take the question to show the page starting at citation `start`; None when that
        page was shown already or another press is fetching it."""
        now = time.time() if now is None else now
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE more_questions SET busy_until=? WHERE key=? AND shown_count=? "
                "AND (busy_until IS NULL OR busy_until < ?)",
                (now + BUSY_SECONDS, key, start - 1, now),
            )
            if cursor.rowcount != 1:
                return None
            row = conn.execute(
                "SELECT question, shown FROM more_questions WHERE key=?", (key,)
            ).fetchone()
        return Asked(row[0], tuple(json.loads(row[1])))

    def release(self, key: str, shown: tuple[str, ...] | None = None) -> None:
        """End a claim; `shown` (all article ids shown so far) when a page went out."""
        with self.db.write() as conn:
            if shown is None:
                conn.execute("UPDATE more_questions SET busy_until=NULL WHERE key=?", (key,))
            else:
                conn.execute(
                    "UPDATE more_questions SET busy_until=NULL, shown=?, shown_count=? WHERE key=?",
                    (json.dumps(list(shown)), len(shown), key),
                )

    def prune(self, now: float | None = None) -> int:
        cutoff = (time.time() if now is None else now) - KEEP_SECONDS
        with self.db.write() as conn:
            return conn.execute("DELETE FROM more_questions WHERE created < ?", (cutoff,)).rowcount
