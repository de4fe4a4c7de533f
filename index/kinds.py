"""The kind of answer a question asks for ("how many" a number, "how much does it cost" an
amount of money, "when" a time, "who" a person ...) and whether a sentence holds one: what
makes "How many speakers are in the Sphere?" quote the sentence with the count."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from index.text import STOPWORDS

_ASKS = [
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("money", r"\bhow (?:cheap|expensive)\b|\bhow much (?:money|.{2,60}\b(?:costs?|pay|paid|"
         r"charge|sell for|fin(?:e|es|ed|ing)))\b|\bwhat(?:'s| is| was)?(?: the)? (?:price|cost|"
         r"fee|fine|salary)\b|\b(?:price|cost|salary)\W*$"),
        ("number", r"\bhow (?:many|much|often|long|old|far|big|large|tall|fast|high|deep)\b"
         r"|\bwhat (?:percentage|percent|share|number|amount|score)\b|\bpercent\W*$"),
        ("time", r"^\W*when\b|\bwhen (?:did|does|do|is|was|will|are|were)\b"
         r"|\bwhat (?:time|date|day|year|month)\b"),
        ("person", r"\bwho(?:se|m)?\b|\bwhich (?:player|person|man|woman|ceo|coach|actor|"
         r"actress|singer|rapper|star|judge|executive|official|minister)\b"),
        ("place", r"\bwhere\b|\bwhich (?:city|country|state|town|venue|stadium|airport)\b"),
        ("reason", r"\bwhy\b|\bwhat (?:caused|led to|made)\b|\bwhat(?:'s| is| was) the reason\b"),
    )
]  # fmt: skip


def answer_kind(question: str) -> str | None:
    """What kind of thing the answer is: "how many" wants a number, "when" a time."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


_NUMBER = re.compile(
    r"\d+(?:[,.]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|half|twice)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d+"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|"
    r"tonight|ago|earlier this|last (?:week|month|year|night)|next (?:week|month|year))\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"[$£€¥₪₹]\s?\d+(?:[,.]\d+)*|\b(?:US\$|NIS|USD|EUR|GBP)\s?\d+(?:[,.]\d+)*"
    r"|\b\d[\d,.]*\s?(?:dollars|pounds|euros|yen|cents|pence|shekels|rupees)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(?:because|due to|after|since|as a result|attributed|reason|led to|amid|so that|"
    r"in order to|over (?:concerns|claims|allegations)|accused|for (?:allegedly|violating))\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+")  # as `index.text.words` splits numbers and dates
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def kind_test(kind: str | None, question_words: set[str]) -> Callable[[str], bool]:
    """Whether a sentence holds the kind of answer asked for, other than the question's own:
    "How many votes did Jordan get on his third try in 2024?" is not answered by a 2024."""
    if kind in ("person", "place"):
        return lambda sentence: bool(_names(sentence) - question_words - STOPWORDS)
    pattern = _KINDS.get(kind or "")
    if pattern is None:
        return lambda sentence: False
    own = {word for word in question_words if pattern.search(word)}
    if not own:  # most questions name no number or time: any in the sentence will do
        return lambda sentence: _holds(sentence, pattern)
    return lambda sentence: any(not found <= own for found in _held(sentence, pattern))


@lru_cache(maxsize=65536)
def _holds(sentence: str, pattern: re.Pattern[str]) -> bool:
    return pattern.search(sentence) is not None


@lru_cache(maxsize=65536)
def _held(sentence: str, pattern: re.Pattern[str]) -> tuple[frozenset[str], ...]:
    """The words of each number, time or amount the sentence holds."""
    return tuple(frozenset(_TOKEN.findall(found.lower())) for found in pattern.findall(sentence))


@lru_cache(maxsize=65536)
def _names(sentence: str) -> frozenset[str]:
    """Its capitalised words (not at a sentence start), lower-cased."""
    return frozenset(m.group(0).lower() for m in _CAPITALISED.finditer(sentence))


_KINDS = {"number": _NUMBER, "money": _MONEY, "time": _TIME, "reason": _REASON}
