"""When a daily digest is due: time zones and DST-correct schedule math (pure functions).

No Telegram and no database here: everything is testable with plain datetimes.

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

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

Decision = Literal["send", "skip", "wait"]


class UnknownTimezoneError(ValueError):
    """Not an IANA zone name (or one we refuse, like `localtime`)."""


class TimezoneDataError(RuntimeError):
    """The IANA database is missing: a deployment problem, not a user mistake."""


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


def is_zone_name(name: str) -> bool:
    """True for an IANA zone name in any letter case (`europe/istanbul` too)."""
    return name.lower() in _zone_names()


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


def as_utc(value: datetime) -> datetime:
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
    return as_utc(when_utc).astimezone(sub.zone).date()


def _occurrence(sub: Subscription, day: date, zone: ZoneInfo) -> datetime | None:
    """The instant of `day`'s digest, or None if that date has none for this subscription."""
    instant = resolve_local_time(day, sub.local_time, zone)
    if instant < as_utc(sub.created_at):
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
    now = as_utc(now_utc)
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
    now = as_utc(now_utc)
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
        return as_utc(sub.last_sent_at)
    return as_utc(now_utc) - timedelta(hours=24)
