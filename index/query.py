"""What a question says besides its topic: outlets it names, dates it mentions.

"as reported by TechCrunch" should prefer TechCrunch's articles; "on October 7, 2023" should
prefer that day's; an outlet the index has never heard of ("according to Bloomberg"), or a
person or organisation no article mentions, is a strong hint that there is nothing to cite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from index.text import query_terms

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(), start=1)}
_DATE = re.compile(
    r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE
)
_SEPARATORS = re.compile(r"\s+-\s+|\s+\|\s+|:\s+")
_NAME = r"['\"“‘]?(?P<name>(?:The\s+)?[A-Z][\w&.'’]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w&.'’]*){0,4})"
# "according to X", "an article in X", "another from X" ...
_OUTLET_BEFORE = re.compile(
    r"(?:according to|reported by|published by|(?:article|report|piece|story|coverage|review|"
    r"analysis|op-ed|another|one|feature)s? (?:from|by|in))\s+(?:an? |the )?" + _NAME
)
# ... and "the X article", "a X report"
_OUTLET_AFTER = re.compile(
    r"(?:\b(?:the|a|an|both|and)\s+)" + _NAME + r"['’]?s?\s+(?:article|report|piece|review|"
    r"coverage|story|op-ed|feature)s?\b"
)


def outlet_aliases(source: str) -> set[str]:
    """Ways a question may name an outlet: `FOX News - Health` is also `FOX News`."""
    names = {source.strip()}
    short = _SEPARATORS.split(source.strip())[0].strip()
    if short:
        names.add(short)
    return {n.lower() for n in names if len(n) >= 3}


@dataclass(frozen=True)
class QueryIntent:
    sources: tuple[str, ...] = ()
    unknown_sources: tuple[str, ...] = ()
    dates: tuple[date, ...] = ()
    names: tuple[str, ...] = ()
    # one per time an indexed outlet is named: the question's text from that mention up to the
    # next, and the outlet(s) the mention stands for
    clauses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # the separate things the question says ("Which company, sued by X, that also Y?"), each
    # with enough content words to be looked for on its own
    claims: tuple[str, ...] = ()

    @property
    def mentions(self) -> int:
        return len(self.clauses)


class QueryAnalyser:
    """Recognises the index's outlets (and unknown ones) and dates in a question."""

    def __init__(self, sources: list[str]) -> None:
        self.alias_to_sources: dict[str, set[str]] = {}
        for source in sources:
            for alias in outlet_aliases(source):
                self.alias_to_sources.setdefault(alias, set()).add(source)
        # longest aliases first, so "The Independent - Sports" wins over "The Independent"
        ordered = sorted(self.alias_to_sources, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in ordered) + r")(?![\w])")
            if ordered
            else None
        )

    def analyse(self, question: str) -> QueryIntent:
        lowered = question.lower()
        spans: list[tuple[int, int]] = []
        named: list[tuple[str, ...]] = []  # the outlet(s) each mention stands for
        if self._pattern:
            for match in self._pattern.finditer(lowered):
                spans.append(match.span())
                named.append(tuple(sorted(self.alias_to_sources[match.group(1)])))
        found = dict.fromkeys(source for sources in named for source in sources)
        unknown: list[str] = []
        for pattern in (_OUTLET_BEFORE, _OUTLET_AFTER):
            for match in pattern.finditer(question):
                start, end = match.span("name")
                name = match.group("name").strip("'\"”’ ")
                if any(s < end and start < e for s, e in spans) or not _is_name(name):
                    continue
                unknown.append(name)
        dates = tuple(dict.fromkeys(dates_in(question)))
        names = []
        for match in _PROPER_NAME.finditer(question):
            start, end = match.span(1)
            name = match.group(1)
            if name.split()[0].lower() in _NOT_OUTLETS:
                name = name.split(maxsplit=1)[1] if " " in name else ""
            if (
                " " in name
                and not any(s < end and start < e for s, e in spans)
                and not any(name.lower() in alias for alias in self.alias_to_sources)
            ):
                names.append(name)
        return QueryIntent(
            tuple(found),
            tuple(dict.fromkeys(unknown)),
            dates,
            tuple(dict.fromkeys(names)),
            _clauses(question, spans, named),
            claims_in(question),
        )


def _clauses(
    question: str, spans: list[tuple[int, int]], named: list[tuple[str, ...]]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Cut the question at each outlet mention: "Did X report A, while Y says B?" gives
    ("Did X report A, while", X) and ("Y says B?", Y)."""
    if not spans:
        return ()
    starts = [0] + [start for start, _ in spans[1:]]
    ends = [start for start, _ in spans[1:]] + [len(question)]
    return tuple(
        (question[a:b], sources) for a, b, sources in zip(starts, ends, named, strict=True)
    )


_CLAIM_BREAK = re.compile(r"[,;?]|\b(?:and|while|but|whereas|also)\b", re.IGNORECASE)


def claims_in(question: str, min_terms: int = 3) -> tuple[str, ...]:
    """Cut a question at commas and at the words that join claims: "Which company, sued by X,
    also reported Y and Z?" gives "sued by X", "reported Y", "Z" (those with `min_terms`
    content words or more)."""
    parts = (part.strip() for part in _CLAIM_BREAK.split(question))
    return tuple(part for part in parts if len(query_terms(part)) >= min_terms)


# "Layton Williams", "Bank of England": capitalised words in a row (possessives cut off)
_PROPER_NAME = re.compile(r"\b([A-Z][\w\-]+(?:\s+(?:(?:of|de|van|von)\s+)?[A-Z][\w\-]+){1,3})")


def dates_in(question: str) -> list[date]:
    """Dates like "October 7, 2023"."""
    found = []
    for match in _DATE.finditer(question):
        month, day, year = match.groups()
        try:
            found.append(date(int(year), _MONTHS[month.lower()], int(day)))
        except ValueError:
            continue
    return found


_NOT_OUTLETS = set(_MONTHS) | {
    "the", "a", "an", "this", "that", "which", "what", "who", "both", "after", "before",
    "between", "during", "considering", "given", "same", "first", "second", "other", "another",
}  # fmt: skip


def _is_name(name: str) -> bool:
    words = [w for w in name.lower().split() if w not in ("the", "of", "for")]
    return bool(words) and words[0] not in _NOT_OUTLETS
