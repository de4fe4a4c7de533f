"""Updates received but not yet handled, kept on disk so a crash does not lose them.

With long polling Telegram forgets an update once the next getUpdates confirms it, which the
bot does as soon as it has fetched it, long before the answer is sent: a kill -9 while 50 chats
wait lost 45 of their questions (tests/test_kill_serve.py). Each update is written here when its
handling starts and marked done when it ends; the next start handles what is not done. An update
seen again after it was done (Telegram re-delivering one it never saw confirmed) is skipped.

The payloads are opaque JSON objects keyed by update id: nothing here knows Telegram.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from db.sqlite import Database

MIGRATIONS = [
    [
        "CREATE TABLE inbox (update_id INTEGER PRIMARY KEY, payload TEXT NOT NULL, "
        "received REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0)"
    ]
]
KEEP_DONE_SECONDS = 24 * 3600  # done updates are remembered this long (duplicates of them skipped)


class Inbox:
    def __init__(self, path: Path) -> None:
        self.db = Database(path, MIGRATIONS, what="update inbox")

    def begin(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Record an update whose handling starts; False when it was handled already."""
        with self.db.write() as conn:
            row = conn.execute("SELECT done FROM inbox WHERE update_id=?", (update_id,)).fetchone()
            if row is not None:
                return not row["done"]
            conn.execute(
                "INSERT INTO inbox (update_id, payload, received) VALUES (?, ?, ?)",
                (update_id, json.dumps(payload), time.time()),
            )
        return True

    def done(self, update_id: int) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE inbox SET done=1 WHERE update_id=?", (update_id,))

    def pending(self) -> list[dict[str, Any]]:
        """Updates whose handling started and never ended (a crash), oldest first."""
        rows = self.db.query("SELECT payload FROM inbox WHERE done=0 ORDER BY update_id")
        return [json.loads(row["payload"]) for row in rows]

    def prune(self, now: float | None = None) -> int:
        cutoff = (now or time.time()) - KEEP_DONE_SECONDS
        with self.db.write() as conn:
            return conn.execute(
                "DELETE FROM inbox WHERE done=1 AND received < ?", (cutoff,)
            ).rowcount

    def close(self) -> None:
        self.db.close()
