"""Daily digest subscriptions: SQLite storage, schedule math and `/subscribe` argument parsing.

No Telegram imports: the bot layer calls these functions, so everything here is testable with
plain datetimes and a temporary database file.

Schedule model (read this before changing anything):

* A subscription fires once per *local date* of its zone, at the local wall-clock time HH:MM.
  `last_sent_local_date` is the last local date that was handled (sent or skipped). Marking is
  monotonic and atomic, so a local date can never be handled twice, even across restarts or two
  workers racing: `mark_sent` returns False when the date was already taken.
* An occurrence earlier than `created_at` never fires: a subscription made at 09:00 for 08:00
  starts tomorrow (compared with `created_at`; nothing fake is written to the sent columns).
* DST: the time is resolved per local date, so 07:30 stays 07:30 local across clock changes.
  Spring-forward gap (02:30 that does not exist): the first valid instant after the gap (03:00).
  Fall-back overlap (01:30 happens twice): the first occurrence (fold=0); the second one is the
  same local date, already marked, so it never sends again.

Suggested caller flow, once a minute per `active()` subscription (use one `now` throughout)::

    decision, day = due(sub, now, grace), due_date(sub, now, grace)
    if decision == "send":
        since = digest_window_start(sub, now)  # before marking: it reads last_sent_at
        if store.mark_sent(sub.id, now, day):  # atomic claim: False if already handled
            send_digest(sub, since)
    elif decision == "skip":
        store.mark_skipped(sub.id, day)
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from index.text import query_terms

# --------------------------------------------------------------------------------------------
# Errors and constants

ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: safe to read aloud and type
ID_LENGTH = 6
DEFAULT_TIME = "08:00"
TOPIC_MAX_CHARS = 100

USAGE = (
    "/subscribe [HH:MM] [Area/City] [topic]\n"
    "A daily news digest at a local time (24-hour clock, default 08:00) in an IANA time zone "
    "(default: the zone this chat used last), optionally about a topic.\n"
    "Examples:\n"
    "/subscribe 07:30 Europe/Istanbul Syria\n"
    "/subscribe 18:00 climate change\n"
    "/subscribe UTC\n"
    "Stop with /unsubscribe <id> or /unsubscribe all."
)
UNSUBSCRIBE_USAGE = "/unsubscribe <id> stops one digest; /unsubscribe all stops every digest here."

Decision = Literal["send", "skip", "wait"]


class UsageError(ValueError):
    """Bad command arguments; the message is meant to be shown to the user as is."""


class UnknownTimezoneError(ValueError):
    """Not an IANA zone name (or one we refuse, like `localtime`)."""


class TimezoneDataError(RuntimeError):
    """The IANA database is missing: a deployment problem, not a user mistake."""


class DuplicateSubscriptionError(ValueError):
    """Raised by `add` for an exact duplicate; `existing` is the subscription already there."""

    def __init__(self, existing: Subscription) -> None:
        super().__init__(f"Already subscribed: {existing.id}")
        self.existing = existing


class SchemaError(RuntimeError):
    """The database was written by a newer version of this module."""


# --------------------------------------------------------------------------------------------
# Time zones

_REFUSED_ZONES = frozenset({"localtime", "factory", "posixrules"})


@cache
def _zone_names() -> dict[str, str]:
    """Lower-cased name -> canonical name, so `europe/istanbul` works on any file system."""
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(name: str) -> str:
    """The canonical spelling of an IANA zone name; raises for unknown names or missing data."""
    key = name.strip().lower()
    names = _zone_names()
    if not names:
        raise TimezoneDataError(
            "No IANA time zone data found: install the system `tzdata` package "
            "(apt-get install tzdata) or the `tzdata` Python package."
        )
    if key in _REFUSED_ZONES or key not in names:
        raise UnknownTimezoneError(f"Unknown time zone: {name!r}")
    return names[key]


def load_zone(name: str) -> ZoneInfo:
    """ZoneInfo for a stored name, with a clear error when the tz database is absent."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:
        canonical_zone(name)  # raises TimezoneDataError when the whole database is missing
        raise UnknownTimezoneError(f"Unknown time zone: {name!r}") from exc
    except ValueError as exc:  # malformed keys such as absolute paths
        raise UnknownTimezoneError(f"Unknown time zone: {name!r}") from exc


# --------------------------------------------------------------------------------------------
# The record


@dataclass(frozen=True)
class Subscription:
    """One daily digest for one chat (and forum topic, if `thread_id` is set)."""

    id: str
    chat_id: int
    hhmm: str
    tz: str
    topic: str | None
    created_by: int | None
    created_at: datetime
    thread_id: int | None = None
    last_sent_at: datetime | None = None
    last_sent_local_date: date | None = None
    paused_at: datetime | None = None
    pause_reason: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return load_zone(self.tz)

    @property
    def local_time(self) -> time:
        hour, minute = self.hhmm.split(":")
        return time(int(hour), int(minute))

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


# --------------------------------------------------------------------------------------------
# Schedule math (pure)


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are a bug waiting for a server in another zone: refuse them."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {value!r}")
    return value.astimezone(UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def resolve_local_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`.

    PEP 495 folds: for an ambiguous time (fall-back overlap), fold=0 is the first occurrence,
    which is the one we want. For a non-existent time (spring-forward gap) fold=0 and fold=1
    give two instants on either side of the transition, neither showing the asked wall time;
    we return the transition itself, i.e. the first valid instant after the gap (02:30 -> 03:00).
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == naive:
        return first
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = sorted((first, other))
    # Smallest whole second whose wall time is at or past `naive`: the end of the gap.
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if _wall(datetime.fromtimestamp(mid, UTC), zone) >= naive:
            hi_s = mid
        else:
            lo_s = mid + 1
    return datetime.fromtimestamp(hi_s, UTC)


def local_date_of(sub: Subscription, when_utc: datetime) -> date:
    """The local date of an instant in the subscription's zone (for display and logs)."""
    return _as_utc(when_utc).astimezone(sub.zone).date()


def _occurrence(sub: Subscription, day: date, zone: ZoneInfo) -> datetime | None:
    """The instant of `day`'s digest, or None if that date has none for this subscription."""
    instant = resolve_local_time(day, sub.local_time, zone)
    if instant < _as_utc(sub.created_at):
        return None  # made after that day's time: starts on a later day
    if instant.astimezone(zone).date() != day:
        return None  # the zone skipped the date (Samoa, 2011-12-30)
    if sub.last_sent_local_date is not None and day <= sub.last_sent_local_date:
        return None  # already sent or skipped
    return instant


def next_send(sub: Subscription, now_utc: datetime, grace: timedelta = timedelta(0)) -> datetime:
    """The UTC instant of the next unhandled occurrence of HH:MM local.

    Looks at local dates from today on (after `last_sent_local_date`, not before `created_at`).
    The result is in the past exactly when today's digest is overdue, and then `due` says "send"
    or "skip"; otherwise it is in the future and `due` says "wait". With a `grace`, yesterday's
    occurrence counts too while it is within grace, so a 23:50 digest still goes out when the
    bot comes back at 00:10.
    """
    zone = sub.zone
    now = _as_utc(now_utc)
    today = now.astimezone(zone).date()
    yesterday = _occurrence(sub, today - timedelta(days=1), zone)
    if yesterday is not None and yesterday <= now and now - yesterday <= grace:
        return yesterday
    day = today
    for _ in range(400):
        instant = _occurrence(sub, day, zone)
        if instant is not None:
            return instant
        day += timedelta(days=1)
    raise RuntimeError(f"no send time found for subscription {sub.id}")  # pragma: no cover


def due(sub: Subscription, now_utc: datetime, grace: timedelta) -> Decision:
    """Send the pending local date's digest, skip it (missed by more than `grace`), or wait.

    Mark the outcome under `due_date(sub, now_utc, grace)`, with the same arguments.
    """
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    if sub.paused:
        return "wait"
    now = _as_utc(now_utc)
    instant = next_send(sub, now, grace)
    if instant > now:
        return "wait"
    return "send" if now - instant <= grace else "skip"


def due_date(sub: Subscription, now_utc: datetime, grace: timedelta) -> date:
    """The local date `due` decided about: the key for `mark_sent` / `mark_skipped`.

    Usually today's local date; yesterday's when a late-evening digest is sent after midnight.
    """
    return next_send(sub, now_utc, grace).astimezone(sub.zone).date()


def digest_window_start(sub: Subscription, now_utc: datetime) -> datetime:
    """Where the digest's news starts: the previous digest, or the last 24 hours for the first."""
    if sub.last_sent_at is not None:
        return _as_utc(sub.last_sent_at)
    return _as_utc(now_utc) - timedelta(hours=24)


# --------------------------------------------------------------------------------------------
# Command arguments

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_TIME_LIKE = re.compile(
    r"^(?=.*\d)(\d*[:.]\d*|\d{1,2}h\d{0,2}|\d{1,2}(:\d{2})?\s*[ap]\.?m\.?)$", re.IGNORECASE
)
_ZONE_SHAPED = re.compile(r"^[A-Za-z][\w+\-]*(/[\w+\-]+)+$")
_QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class SubscribeRequest:
    """Parsed `/subscribe` words; `tz_explicit` means the user named a zone (remember it)."""

    hhmm: str
    tz: str
    topic: str | None
    tz_explicit: bool = False


def parse_hhmm(token: str) -> str:
    """`7:30` or `07:30` -> `07:30`; anything else is a UsageError with a hint."""
    match = _HHMM.match(token.strip())
    if not match:
        raise UsageError(f"{token!r} is not a time: use HH:MM on a 24-hour clock, e.g. 07:30.")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise UsageError(f"{token!r} is not a valid time: hours go 00–23 and minutes 00–59.")
    return f"{hour:02d}:{minute:02d}"


def _zone_token(token: str) -> str | None:
    """A canonical zone for zone-looking tokens (`Area/City`, `UTC`), None for other words."""
    if token.lower() != "utc" and not _ZONE_SHAPED.match(token):
        return None
    try:
        return canonical_zone(token)
    except UnknownTimezoneError:
        raise UsageError(
            f"Unknown time zone {token!r}. Use an IANA name like Europe/Istanbul or "
            "America/New_York, or UTC."
        ) from None


def clean_topic(words: list[str]) -> str | None:
    """The user's topic words, trimmed; None for no topic, UsageError when nothing is left."""
    if not any(w.strip() for w in words):
        return None
    topic = " ".join(" ".join(words).split()).strip(_QUOTES).strip()
    if not query_terms(topic):  # what retrieval would search for: the same stopwords
        raise UsageError(
            "That topic has no searchable words. Name a subject, e.g. /subscribe 08:00 Syria."
        )
    if len(topic) > TOPIC_MAX_CHARS:
        raise UsageError(f"The topic is too long (at most {TOPIC_MAX_CHARS} characters).")
    return topic


def _check_topic_word(token: str) -> None:
    """Catch a time or zone typed after the topic, where it would silently become topic text."""
    if _HHMM.match(token) or re.fullmatch(r"\d{1,2}(:\d{2})?\s*[ap]\.?m\.?", token, re.I):
        raise UsageError("Put the time before the topic, e.g. /subscribe 07:30 Syria.")
    if "/" in token and token.lower() in _zone_names():
        raise UsageError(
            "Put the time zone before the topic, e.g. /subscribe Europe/Istanbul Syria."
        )


def parse_subscribe_args(args: list[str], default_tz: str) -> SubscribeRequest:
    """Words after `/subscribe`: optional HH:MM and zone (either order), then the topic."""
    hhmm: str | None = None
    tz: str | None = None
    rest = list(args)
    while rest and (hhmm is None or tz is None):
        token = rest[0].strip()
        if not token:
            rest.pop(0)
            continue
        if _TIME_LIKE.match(token):
            if hhmm is not None:
                raise UsageError("Give one time only, e.g. /subscribe 07:30 Syria.")
            hhmm = parse_hhmm(token)
        elif (zone := _zone_token(token)) is not None:
            if tz is not None:
                raise UsageError("Give one time zone only, e.g. /subscribe 07:30 Europe/Istanbul.")
            tz = zone
        else:
            break
        rest.pop(0)
    for token in rest:
        _check_topic_word(token)
    return SubscribeRequest(
        hhmm=hhmm or DEFAULT_TIME,
        tz=tz or canonical_zone(default_tz),
        topic=clean_topic([t for t in rest if t.strip()]),
        tz_explicit=tz is not None,
    )


def parse_unsubscribe_args(args: list[str]) -> str | Literal["all"]:
    """`all`, or one subscription id (upper-cased; a leading `#` is tolerated)."""
    words = [a.strip() for a in args if a.strip()]
    if not words:
        raise UsageError("Which one? " + UNSUBSCRIBE_USAGE)
    if len(words) > 1:
        raise UsageError("One id at a time. " + UNSUBSCRIBE_USAGE)
    word = words[0].lstrip("#")
    if word.lower() == "all":
        return "all"
    sub_id = word.upper()
    if len(sub_id) != ID_LENGTH or any(ch not in ID_ALPHABET for ch in sub_id):
        raise UsageError(f"{words[0]!r} is not a subscription id. " + UNSUBSCRIBE_USAGE)
    return sub_id


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
    return _as_utc(value).isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day(value: date | str) -> str:
    """Validate and normalise a local date to `YYYY-MM-DD` (ISO strings sort chronologically)."""
    return (value if isinstance(value, date) else date.fromisoformat(value)).isoformat()


def _topic_key(topic: str | None) -> str:
    return " ".join(topic.casefold().split()) if topic else ""


def _from_row(row: sqlite3.Row) -> Subscription:
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
    """Subscriptions in their own SQLite file; one connection guarded by a lock, WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SubscriptionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short atomic transaction; BEGIN IMMEDIATE also serialises other processes."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise SchemaError(
                    f"{self.path} has schema version {version}; this code knows "
                    f"{len(MIGRATIONS)}. Upgrade the bot."
                )
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return self._query("PRAGMA user_version")[0][0]

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
        created = _as_utc(now) if now is not None else datetime.now(UTC)
        with self._write() as conn:
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
    def _unused_id(conn: sqlite3.Connection) -> str:
        for _ in range(100):
            sub_id = new_id()
            if not conn.execute("SELECT 1 FROM subscriptions WHERE id=?", (sub_id,)).fetchone():
                return sub_id
        raise RuntimeError("could not find a free subscription id")  # pragma: no cover

    def get(self, sub_id: str) -> Subscription | None:
        rows = self._query("SELECT * FROM subscriptions WHERE id=?", (sub_id.strip().upper(),))
        return _from_row(rows[0]) if rows else None

    def list_for_chat(self, chat_id: int) -> list[Subscription]:
        rows = self._query(
            "SELECT * FROM subscriptions WHERE chat_id=? ORDER BY local_time, created_at",
            (chat_id,),
        )
        return [_from_row(row) for row in rows]

    def active(self) -> list[Subscription]:
        """Subscriptions the scheduler should look at (not paused)."""
        rows = self._query(
            "SELECT * FROM subscriptions WHERE paused_at IS NULL ORDER BY chat_id, local_time"
        )
        return [_from_row(row) for row in rows]

    def remove(self, chat_id: int, sub_id: str) -> bool:
        """Delete one subscription; False if the id is unknown or belongs to another chat."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM subscriptions WHERE id=? AND chat_id=?",
                (sub_id.strip().lstrip("#").upper(), chat_id),
            )
        return cursor.rowcount > 0

    def remove_all(self, chat_id: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM subscriptions WHERE chat_id=?", (chat_id,)).rowcount

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Follow a group upgraded to a supergroup (Telegram gives it a new chat id)."""
        with self._write() as conn:
            moved = conn.execute(
                "UPDATE subscriptions SET chat_id=? WHERE chat_id=?", (new_chat_id, old_chat_id)
            ).rowcount
            conn.execute(  # keep the new chat's own zone if it already has one
                "INSERT OR IGNORE INTO chats (chat_id, tz, updated_at) "
                "SELECT ?, tz, updated_at FROM chats WHERE chat_id=?",
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
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE subscriptions SET last_sent_at=?, last_sent_local_date=? WHERE id=? "
                "AND (last_sent_local_date IS NULL OR last_sent_local_date < ?)",
                (_iso(sent_at_utc), day, sub_id.upper(), day),
            )
        return cursor.rowcount > 0

    def mark_skipped(self, sub_id: str, local_date: date | str) -> bool:
        """Give up on a missed `local_date` without moving `last_sent_at` (the news window)."""
        day = _day(local_date)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE subscriptions SET last_sent_local_date=? WHERE id=? "
                "AND (last_sent_local_date IS NULL OR last_sent_local_date < ?)",
                (day, sub_id.upper(), day),
            )
        return cursor.rowcount > 0

    def pause_chat(self, chat_id: int, reason: str, now: datetime | None = None) -> int:
        """Stop digests to a chat that blocked or removed the bot; returns how many paused."""
        paused_at = _as_utc(now) if now is not None else datetime.now(UTC)
        with self._write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET paused_at=?, pause_reason=? "
                "WHERE chat_id=? AND paused_at IS NULL",
                (_iso(paused_at), reason, chat_id),
            ).rowcount

    def resume_chat(self, chat_id: int) -> int:
        """Undo `pause_chat`; missed days are not sent afterwards (`due` skips them)."""
        with self._write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET paused_at=NULL, pause_reason=NULL "
                "WHERE chat_id=? AND paused_at IS NOT NULL",
                (chat_id,),
            ).rowcount

    # -- chats ------------------------------------------------------------------------------

    def chat_timezone(self, chat_id: int) -> str | None:
        rows = self._query("SELECT tz FROM chats WHERE chat_id=?", (chat_id,))
        return rows[0]["tz"] if rows else None

    def set_chat_timezone(self, chat_id: int, tz: str, now: datetime | None = None) -> str:
        """Remember the zone a chat last named; returns the canonical spelling stored."""
        tz = canonical_zone(tz)
        updated = _as_utc(now) if now is not None else datetime.now(UTC)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO chats (chat_id, tz, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE SET tz=excluded.tz, updated_at=excluded.updated_at",
                (chat_id, tz, _iso(updated)),
            )
        return tz
