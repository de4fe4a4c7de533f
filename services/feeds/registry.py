"""The feeds the bot follows, what happened the last time each was polled, and which default
feeds were already seeded: one SQLite file, `DATA_DIR/feeds.sqlite`, or PostgreSQL tables shared
by several bot workers when `DATABASE_URL` is set."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from db.open import open_database

# Numbered schema versions (PRAGMA user_version); never edit a released one, append a new one.
# Both use IF NOT EXISTS: files written before the numbering (user_version 0) already hold
# `feeds`, and maybe `seeded_defaults` (which the poller used to create).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL UNIQUE,
    name TEXT,
    added_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_fetch_at TEXT,
    last_new_article_at TEXT,
    last_error TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    articles_seen INTEGER NOT NULL DEFAULT 0
        )""",
    ),
    ("CREATE TABLE IF NOT EXISTS seeded_defaults (url TEXT PRIMARY KEY, seeded_at TEXT NOT NULL)",),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_feed_url(url: str) -> str:
    """One spelling per feed: scheme and host lower-cased, no fragment, no default port.

    `feed://` and a missing scheme become http(s); the path and query are kept as given, since
    servers may treat `/feed` and `/feed/` differently. Raises ValueError for non-web URLs.
    """
    url = url.strip()
    if url.startswith("feed://"):
        url = "http://" + url[len("feed://") :]
    elif "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) feed URL: {url!r}")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in feed URL: {url!r}") from exc
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError("feed URLs with credentials are not stored")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class Feed:
    """One followed feed and its polling state."""

    id: int
    url: str
    name: str | None
    added_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_new_article_at: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    articles_seen: int = 0


class FeedList:
    """A registry of feeds in its own SQLite file, or in PostgreSQL (`location` a URL).

    Connections are per thread (`db.sqlite.Database`) or pooled, so one instance can be shared
    by the bot's thread and a polling thread, and other processes can read it.
    """

    def __init__(self, location: str | Path) -> None:
        self.db = open_database(location, MIGRATIONS, store="feeds", what="feed list")
        self.path = self.db.path

    def close(self) -> None:
        self.db.close()

    @property
    def read_only(self) -> bool:
        """A file in a read-only folder: the feeds can be listed, no poll can be stored."""
        return self.db.read_only

    def __enter__(self) -> FeedList:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, url: str, name: str | None = None) -> tuple[Feed, bool]:
        """Follow a feed. Returns (feed, created); an already followed URL is not added again."""
        url = normalise_feed_url(url)
        name = " ".join(name.split()) if name and name.strip() else None
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO feeds (url, name, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT(url) DO NOTHING",
                (url, name, _now().isoformat()),
            )
            created = cursor.rowcount == 1
            row = conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return _feed(row), created

    def remove(self, url_or_id: str | int) -> bool:
        """Stop following a feed, by URL or id. False when there was no such feed."""
        where, key = self._key(url_or_id)
        with self.db.write() as conn:
            return conn.execute(f"DELETE FROM feeds WHERE {where}", (key,)).rowcount > 0

    def get(self, url_or_id: str | int) -> Feed | None:
        where, key = self._key(url_or_id)
        rows = self.db.query(f"SELECT * FROM feeds WHERE {where}", (key,))
        return _feed(rows[0]) if rows else None

    def list(self) -> builtins.list[Feed]:
        """All followed feeds, oldest first."""
        return [_feed(row) for row in self.db.query("SELECT * FROM feeds ORDER BY id")]

    def rename(self, url_or_id: str | int, name: str | None) -> bool:
        where, key = self._key(url_or_id)
        name = " ".join(name.split()) if name and name.strip() else None
        with self.db.write() as conn:
            cursor = conn.execute(f"UPDATE feeds SET name = ? WHERE {where}", (name, key))
            return cursor.rowcount > 0

    def record_success(
        self,
        url_or_id: str | int,
        *,
        etag: str | None,
        last_modified: str | None,
        new_articles: int = 0,
        at: datetime | None = None,
    ) -> bool:
        """A poll worked (a 304 included): store the validators, clear the error streak."""
        stamp = _iso(at)
        where, key = self._key(url_or_id)
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_fetch_at = ?, "
                "last_error = NULL, error_count = 0, articles_seen = articles_seen + ?, "
                "last_new_article_at = CASE WHEN ? > 0 THEN ? ELSE last_new_article_at END "
                f"WHERE {where}",
                (etag, last_modified, stamp, new_articles, new_articles, stamp, key),
            )
            return cursor.rowcount > 0

    def record_failure(
        self, url_or_id: str | int, error: str, *, at: datetime | None = None
    ) -> bool:
        """A poll failed: keep the validators, count the failure (callers can back off on it)."""
        where, key = self._key(url_or_id)
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE feeds SET last_fetch_at = ?, last_error = ?, "
                f"error_count = error_count + 1 WHERE {where}",
                (_iso(at), error, key),
            )
            return cursor.rowcount > 0

    def polling_turn(self) -> AbstractContextManager[bool]:
        """True for the block when this process may poll the feeds: several bot workers share
        the list, and one at a time polls it (an advisory lock, or a lock file for SQLite)."""
        return self.db.exclusive("polling")

    # -- default feeds ----------------------------------------------------------------------

    def seeded_defaults(self) -> set[str]:
        """The default feed URLs already followed once (see `services.feeds.defaults`)."""
        return {row["url"] for row in self.db.query("SELECT url FROM seeded_defaults")}

    def mark_seeded(self, urls: Iterable[str], *, at: datetime | None = None) -> None:
        """Remember default feeds as seeded, so a removal by the admin sticks."""
        stamp = _iso(at)
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO seeded_defaults (url, seeded_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(url, stamp) for url in urls],
            )

    @staticmethod
    def _key(url_or_id: str | int) -> tuple[str, str | int]:
        if isinstance(url_or_id, int):
            return "id = ?", url_or_id
        if url_or_id.strip().isdigit():
            return "id = ?", int(url_or_id)
        return "url = ?", normalise_feed_url(url_or_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime | None) -> str:
    """Stored as ISO 8601 in UTC; a naive time is taken as UTC, like `Article` dates."""
    at = at or _now()
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _feed(row: Any) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        added_at=datetime.fromisoformat(row["added_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch_at=_when(row["last_fetch_at"]),
        last_new_article_at=_when(row["last_new_article_at"]),
        last_error=row["last_error"],
        error_count=row["error_count"],
        articles_seen=row["articles_seen"],
    )
