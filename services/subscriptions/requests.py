"""`/subscribe` and `/unsubscribe` arguments: parsing, usage texts and the errors users see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.text import query_terms
from services.subscriptions.schedule import UnknownTimezoneError, canonical_zone, is_zone_name

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
    if "/" in token and is_zone_name(token):
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
