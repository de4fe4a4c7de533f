"""Time in questions: "yesterday", "last week", "in December", "7 October", "since Monday".

Each phrase becomes a `Period` (a UTC range, read against a clock the caller passes, so tests
and benchmarks can set it) and "latest / currently / now" marks a question that prefers new
reporting. Hand-written patterns: dateparser's `search_dates` finds these too but costs tens of
milliseconds per question and misreads words like "may" and "march" in ordinary sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}
# a day-specific period is widened by this much each way: the asker's day is not UTC's
PAD = timedelta(hours=12)
REPORTING_LAG = timedelta(days=3)
PREVIEW = timedelta(days=7)
# the kinds of time words named from the calendar ("7 October", "in 2023"); the others are
# named from the clock ("yesterday", "last month")
_CALENDAR = frozenset("day_month month_day month month_year year".split())

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_COUNT = r"(?P<n>\d+|a|one|two|three|four|five|six|a couple of|a few|few|several)"

# Ordered: the first pattern that claims a stretch of the question wins it.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("day_month", rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?\b"),
        ("month_day", rf"\b{_MONTH}\s+{_DAY}\b(?!\s*(?::|[ap]\.?m\b|%))(?:,?\s+{_YEAR})?"),
        ("since_weekday", rf"\bsince\s+(?:last\s+)?{_WEEKDAY}\b"),
        (
            "month",
            rf"\b(?P<which>in|during|since|last|this|of|early|late|mid)[\s-]+{_MONTH}"
            rf"(?:,?\s+{_YEAR})?\b",
        ),
        ("month_year", rf"\b{_MONTH},?\s+{_YEAR}\b"),
        ("year", rf"\b(?P<which>in|during|since|of|throughout)\s+{_YEAR}\b"),
        ("today", r"\b(?:today|tonight|this morning|this afternoon|this evening)\b"),
        ("day_before", r"\b(?:the\s+)?day\s+before\s+yesterday\b"),
        ("yesterday", r"\b(?:yesterday|last night)\b"),
        ("days_ago", rf"\b{_COUNT}\s+days?\s+ago\b|\bthe\s+other\s+day\b"),
        ("weeks_ago", rf"\b{_COUNT}\s+weeks?\s+ago\b"),
        ("months_ago", rf"\b{_COUNT}\s+months?\s+ago\b"),
        ("since_last", r"\bsince\s+last\s+(?P<unit>week|month)\b"),
        ("this_week", r"\b(?:this|earlier this)\s+week\b"),
        ("last_week", r"\blast\s+week\b|\bthe\s+week\s+before\b"),
        ("past_week", r"\b(?:past|last)\s+(?:7|seven)\s+days\b|\bpast\s+week\b"),
        ("past_days", r"\b(?:past|last)\s+(?:few|couple of|several|two|three|2|3)\s+days\b"),
        ("weekend", r"\b(?:this past|this|last|past|over the)\s+weekend\b"),
        ("this_month", r"\bthis\s+month\b"),
        ("last_month", r"\blast\s+month\b"),
        ("past_month", r"\bpast\s+(?:month|30 days|few weeks)\b"),
        ("this_year", r"\bthis\s+year\b"),
        ("last_year", r"\blast\s+year\b"),
        ("weekday", rf"\b(?P<which>on|last|this|since)\s+{_WEEKDAY}\b"),
    )
]
_RECENT = re.compile(
    r"\b(?:latest|newest|most recent|recently|lately|currently|current|right now|now|"
    r"ongoing|so far|still|any news|what'?s new|update on|updates on)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Period:
    """A stretch of time a question names: [since, until) in UTC, and how to say it."""

    since: datetime
    until: datetime
    label: str
    span: tuple[int, int]  # where the words are in the question
    day: date | None = None  # when it is one calendar day ("7 October", "yesterday")
    dated: bool = False  # the question wrote its year ("in June 2024"), not read off the clock
    # named from the clock ("last month", "yesterday", "this weekend"), not the calendar
    relative: bool = False

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.since <= moment < self.until

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """When the reporting on the period was published. What happens in it is reported in
        it and for a few days after ("on 7 October": the 9th's report counts); a period the
        clock names is reported on up to now ("last month's app revenue" in this month's
        figures, "the attacks last weekend" in Friday's story); one still ahead, in the week
        before ("what lands on netflix this weekend", asked on Friday)."""
        if self.since + PAD > now:  # its first day is still ahead
            return now - PREVIEW, now
        if self.relative:
            return self.since, max(self.until, now)
        return self.since, max(self.until, min(self.until + REPORTING_LAG, now))


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day(day: date, label: str, span: tuple[int, int], dated: bool = False) -> Period:
    end = _start(day + timedelta(days=1)) + PAD
    return Period(_start(day) - PAD, end, label, span, day, dated)


def _range(
    first: date, last: date, label: str, span: tuple[int, int], dated: bool = False
) -> Period:
    """The days first..last inclusive."""
    end = _start(last + timedelta(days=1)) + PAD
    return Period(_start(first) - PAD, end, label, span, dated=dated)


def _month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _latest_month(month: int, today: date) -> int:
    """The year of the latest such month not after today."""
    return today.year if month <= today.month else today.year - 1


def _fmt(day: date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def _period(kind: str, m: re.Match[str], now: datetime) -> Period | None:
    today = now.astimezone(UTC).date()
    span = m.span()
    groups = m.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    dated = year is not None  # the question wrote the year, not read off the clock
    month = MONTHS.get((groups.get("month") or "").lower())
    if kind in ("day_month", "month_day"):
        day = int(groups["day"])
        if year is None:
            year = today.year
            try:
                if date(year, month, day) > today:
                    year -= 1
            except ValueError:
                return None
        try:
            when = date(year, month, day)
        except ValueError:
            return None
        return _day(when, _fmt(when), span, dated)
    if kind in ("month", "month_year"):
        which = (groups.get("which") or "in").lower()
        if year is None:
            year = _latest_month(month, today)
            if which == "last" and month == today.month:
                year -= 1
        first, last = _month_range(year, month)
        label = f"{first.strftime('%B')} {year}"
        if which == "since":
            return _range(first, today, f"since {label}", span, dated)
        if which == "early":
            last = first + timedelta(days=10)
        elif which == "late":
            first = last - timedelta(days=10)
        return _range(first, last, label, span, dated)
    if kind == "year":
        first, last = date(year, 1, 1), date(year, 12, 31)
        if groups["which"].lower() == "since":
            return _range(first, today, f"since {year}", span, dated)
        return _range(first, last, str(year), span, dated)
    if kind == "today":
        return _day(today, "today", span)
    if kind == "yesterday":
        return _day(today - timedelta(days=1), "yesterday", span)
    if kind == "day_before":
        return _day(today - timedelta(days=2), "the day before yesterday", span)
    if kind in ("days_ago", "weeks_ago", "months_ago"):
        unit, days = {"days_ago": ("day", 1), "weeks_ago": ("week", 7)}.get(kind, ("month", 30))
        raw = " ".join((groups["n"] or "").lower().split())
        if raw.isdigit() or raw in _NUMBER_WORDS:
            n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
            when = today - timedelta(days=n * days)
            slack = timedelta(days=max(1, days // 2))  # about then: "two weeks ago"
            label = f"{n} {unit}s ago" if n > 1 else f"a {unit} ago"
            return _range(when - slack, min(when + slack, today), label, span)
        # "a few", "several", "the other day": about two to six of them back
        label = "the past few days" if unit == "day" else f"the past few {unit}s"
        return _range(today - timedelta(days=7 * days), today - timedelta(days=days), label, span)
    monday = today - timedelta(days=today.weekday())
    if kind == "since_last":
        if groups["unit"].lower() == "week":
            return _range(monday - timedelta(days=7), today, "since last week", span)
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return _range(first, today, "since last month", span)
    if kind == "past_days":
        return _range(today - timedelta(days=4), today, "the past few days", span)
    if kind == "this_week":
        return _range(monday, today, "this week", span)
    if kind == "last_week":
        return _range(monday - timedelta(days=7), monday - timedelta(days=1), "last week", span)
    if kind == "past_week":
        return _range(today - timedelta(days=7), today, "the past week", span)
    if kind == "weekend":
        saturday = monday - timedelta(days=2)
        phrase = m.group(0).lower()
        past = phrase.startswith(("last", "this past", "past"))
        # the weekend it is; on a Friday "this weekend" is tomorrow's; from Monday, the last
        if not past and (today.weekday() >= 5 or (today.weekday() == 4 and phrase[:4] == "this")):
            saturday = monday + timedelta(days=5)
        return _range(saturday, saturday + timedelta(days=1), "the weekend", span)
    if kind == "this_month":
        return _range(today.replace(day=1), today, "this month", span)
    if kind == "last_month":
        first, last = _month_range(
            *((today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1))
        )
        return _range(first, last, "last month", span)
    if kind == "past_month":
        return _range(today - timedelta(days=31), today, "the past month", span)
    if kind == "this_year":
        return _range(date(today.year, 1, 1), today, "this year", span)
    if kind == "last_year":
        return _range(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "last year", span)
    if kind in ("weekday", "since_weekday"):
        weekday = WEEKDAYS[groups["weekday"].lower()]
        back = (today.weekday() - weekday) % 7
        which = (groups.get("which") or "since").lower()
        if back == 0 and which in ("last", "since") and kind == "weekday":
            back = 7
        when = today - timedelta(days=back)
        name = groups["weekday"].capitalize()
        if kind == "since_weekday" or which == "since":
            return _range(when, today, f"since {name} {_fmt(when)}", span)
        return _day(when, f"{name} {_fmt(when)}", span)
    return None


def periods_in(
    question: str, now: datetime, outlets: Sequence[tuple[int, int]] = ()
) -> list[Period]:
    """The periods a question names, in the order they appear, read against `now`; none
    within the spans of `outlets` it names ("what did business today report")."""
    taken: list[tuple[int, int]] = list(outlets)
    found: list[Period] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(question):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken):
                continue
            period = _period(kind, match, now)
            if period is not None:
                period = replace(period, relative=kind not in _CALENDAR)
                taken.append((start, end))
                found.append(period)
    return sorted(found, key=lambda p: p.span)


_AHEAD = re.compile(
    r"\b(?:will|won'?t|going to|gonna|expected|expect|expects|plan|plans|planned|planning|"
    r"upcoming|scheduled|set to|forecast|forecasts|projected|predicted|predict|preview|"
    r"coming|next|outlook|(?:by|until|till|through|for) (?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def looks_ahead(question: str) -> bool:
    """ "What will ...", "what is planned for ...", "... to triple capacity by 2030", "the
    outlook for 2024": reporting from before a time can answer it."""
    return bool(_AHEAD.search(question))


_BACK = re.compile(
    r"\b(?:did|was|were|won|lost|happened|ended|results?|winners?|champions?)\b", re.IGNORECASE
)


def looks_back(question: str) -> bool:
    """ "Who won ...", "what happened at ...", "... results": asks how something turned out,
    which reporting from before it cannot tell."""
    return bool(_BACK.search(question))


def wants_recent(question: str) -> bool:
    """ "What's the latest on X", "is X still ...", "who currently leads ..."."""
    return bool(_RECENT.search(question))


def without_periods(question: str, periods: list[Period]) -> str:
    """The question with its time words taken out (what it is about, not when)."""
    for period in sorted(periods, key=lambda p: p.span, reverse=True):
        start, end = period.span
        question = question[:start] + " " + question[end:]
    return " ".join(question.split())
