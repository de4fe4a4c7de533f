"""What a question says besides its topic: outlets it names, dates it mentions.

"as reported by TechCrunch" should prefer TechCrunch's articles; "on October 7, 2023" should
prefer that day's; an outlet the index has never heard of ("according to Bloomberg"), or a
person or organisation no article mentions, is a strong hint that there is nothing to cite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from index.kinds import answer_kind
from index.outlets import OutletNames, outlet_like
from index.text import STOPWORDS, query_terms, stem, words
from index.when import WEEKDAYS, Period, looks_ahead, periods_in, wants_recent, without_periods

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(), start=1)}
_DATE = re.compile(
    r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE
)
_NAME = r"['\"“‘]?(?P<name>(?:The\s+)?[A-Z][\w&.'’]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w&.'’]*){0,4})"
# "according to X", "an article in X", "another from X" ...
_OUTLET_BEFORE = re.compile(
    r"(?:(?P<cited>according to)|reported by|published by|(?:article|report|piece|story|"
    r"coverage|review|analysis|op-ed|another|one|feature)s? (?:from|by|in))\s+(?:an? |the )?"
    + _NAME
)
# ... and "the X article", "a X report"
_OUTLET_AFTER = re.compile(
    r"(?:\b(?:the|a|an|both|and)\s+)" + _NAME + r"['’]?s?\s+(?:article|report|piece|review|"
    r"coverage|story|op-ed|feature)s?\b"
)


# a product and its version ("iphone 16", "Switch 2", "claude 3"): a word, then a whole number
# of up to three digits that is not an amount, a measure or part of a word ("$1 billion",
# "49ers", "31-yard", "59 yarder", "100 meters", "13 games")
_VERSION = re.compile(
    r"(?<![\w$£€.,'’-])([A-Za-z][A-Za-z-]+[A-Za-z])\s+(\d{1,3})(?![\w.,%-]|\s*(?:percent|per cent|"
    r"billion|million|thousand|trillion|bn|points?|years?|days?|weeks?|months?|hours?|"
    r"minutes?|seconds?|yard\w*|met(?:er|re)s?|miles?|feet|foot|pounds?|kg|km|mph|inch(?:es)?|"
    r"goals?|games?|runs?|votes?|seats?|people|times?)\b)",
    re.IGNORECASE,
)
# words a number follows without being a version: counts ("only 13"), ranks ("week 14"), dates
_NOT_VERSIONED = (
    STOPWORDS
    | set(
        "only just nearly roughly almost approximately some another over under around than top "
        "minus plus "
        "week day game round season series episode chapter part page number no grade level vs "
        "jan feb mar apr jun jul aug sep sept oct nov dec".split()
    )
    | set(_MONTH_NAMES.split())
)


def versions_in(text: str) -> tuple[str, ...]:
    """Products named with their version ("iphone 16"), lower-cased: a version no article
    names is usually one that came out after the reporting."""
    found = []
    for match in _VERSION.finditer(text):
        word = match.group(1).lower()
        if word not in _NOT_VERSIONED and not word.endswith(("ing", "ed")):  # "using 1"
            found.append(f"{word} {match.group(2)}")
    return tuple(dict.fromkeys(found))


_ASKING = (
    r"(?:what|what's|whats|who|who's|whos|whom|whose|why|how|when|where|which|do|does|did|is|"
    r"are|was|were|can|could|has|have|had|will|would|should)\b"
)
# "the age interview with melissa lucashenko, what's her new novel called": the words before
# the comma say which article, the question after it what to quote
_DESCRIBED_THEN_ASKED = re.compile(rf"^(?!\s*{_ASKING})[^,:?]+[,:]\s+(?P<ask>{_ASKING}.*)$", re.I)
# how much more the asking part's words count than the describing part's in choosing quotes
# (everyday and fresh sets, dev halves: answering sentence quoted .768 -> .775, .760 -> .780;
# the same from 3 up)
ASK_WEIGHT = 3.0
# "what did the fed decide", "how did the asx open", "what did the jobs report show"
_ENDS_ON_ACTION = re.compile(
    r"^\W*(?:what|how|why|when|where|who|whom)\s+(?:did|does|do|will|would|can|could|should|"
    r"has|have|had)\s+(?:[\w'’.-]+\s+){1,5}(?P<verb>[a-z]+)\W*$",
    re.IGNORECASE,
)


# how people ask a person for news ("tell me about ...", "anything on ...", "is it true
# that ..."): the asking, not the topic, so not words an article must hold
_ASKING_FRAME = re.compile(
    r"^\W*(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:tell me|show me|give me|explain|"
    r"summari[sz]e|find(?: me)?|fill me in|catch me up|update me)(?:\s+(?:about|on|with|the "
    r"story on|the news on|news about|what you know about))?\b"
    r"|\bwhat (?:can|do|did) you (?:tell me|know) about\b"
    r"|\b(?:do you have|is there|got) anything (?:on|about)\b"
    r"|\bi (?:want|would like|wanna|need) to know(?: about)?\b|\bis it true that\b"
    r"|\bany (?:info|information|news|word) (?:on|about)\b|^\W*anything (?:on|about)\b"
    r"|\bwhat(?:'s| is|s) (?:the deal|going on|up) with\b",
    re.IGNORECASE,
)


def without_asking(question: str) -> str:
    """The question without the words that ask for news rather than name it."""
    return " ".join(_ASKING_FRAME.sub(" ", question).split())


@dataclass(frozen=True)
class QueryIntent:
    """A question parsed once: what it asks about, which outlets, names and times it names.

    `text` is what is searched (the question with its misspellings corrected); search, refusal
    and quoting all read this one object.
    """

    question: str = ""  # as asked
    text: str = ""
    terms: tuple[str, ...] = ()  # content words of `text`, in order
    periods: tuple[Period, ...] = ()  # "yesterday", "in December", "7 October" ...
    recent: bool = False  # "latest", "currently", "now": newer reporting is better
    story: bool = False  # "how did X unfold": wants the story's reports in date order
    asks: str | None = None  # the kind of answer: "number", "money", "time", "person", "place" ...
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
    ahead: bool = False  # asks what was planned or will happen ("will", "expected", "next")
    outlet_words: frozenset[str] = frozenset()  # the words that name an outlet ("per cnbc")

    @property
    def mentions(self) -> int:
        return len(self.clauses)

    @property
    def parts(self) -> tuple[str, ...]:
        """The pieces of the question that get a vector of their own: clauses, then claims."""
        return tuple(dict.fromkeys([clause for clause, _ in self.clauses] + list(self.claims)))

    # Derived once, on first use, and shared by ranking, refusal and quoting.

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """Every word of `text`, lower-cased, in order."""
        return tuple(words(self.text))

    def quote_weights(self, weights: dict[str, float]) -> dict[str, float]:
        """The term weights quotes are chosen by: when the question first says which article
        and then asks ("bbc story on bill kenwright, which character did he play"), the
        asking part's words count `ASK_WEIGHT` times more."""
        match = _DESCRIBED_THEN_ASKED.match(self.text)
        if not match:
            return weights
        asked = set(query_terms(match.group("ask")))
        return {t: w * ASK_WEIGHT if t in asked else w for t, w in weights.items()}

    @cached_property
    def action(self) -> str | None:
        """The verb a "what did X decide?" question ends on: what is asked, in words the
        report rarely uses ("the Fed held rates", not "decided")."""
        match = _ENDS_ON_ACTION.match(self.text)
        return match.group("verb").lower() if match else None

    @cached_property
    def versions(self) -> tuple[str, ...]:
        """Products named with their version ("iphone 16"), the product's spelling corrected
        ("iphnoe 16") but only where the question as typed has a version there too: "reich
        59 yarder" is a measure even when spelling makes it "59 harder"."""
        found = versions_in(self.text)
        if not found or self.question in ("", self.text):
            return found
        typed = {v.split()[-1] for v in versions_in(self.question)}
        return tuple(v for v in found if v.split()[-1] in typed)

    @cached_property
    def content_stems(self) -> tuple[str, ...]:
        """The stems of `text`'s content words, in order (adjacent ones make word pairs)."""
        return tuple(stem(w) for w in self.tokens if w not in STOPWORDS)

    @cached_property
    def text_terms(self) -> tuple[str, ...]:
        """Content words of all of `text`, time words included (`terms` leaves those out)."""
        return tuple(query_terms(self.text))

    def terms_of(self, part: str) -> tuple[str, ...]:
        """Content words of one part of the question (a clause or a claim)."""
        found = self._part_terms.get(part)
        return found if found is not None else tuple(query_terms(part))

    @cached_property
    def _part_terms(self) -> dict[str, tuple[str, ...]]:
        return {part: tuple(query_terms(part)) for part in self.parts}

    def period(self) -> Period | None:
        """The time the question asks about (all the periods it names, end to end)."""
        if len(self.periods) < 2:
            return self.periods[0] if self.periods else None
        since = min(p.since for p in self.periods)
        until = max(p.until for p in self.periods)
        label = " to ".join(p.label for p in self.periods)
        dated = all(p.dated for p in self.periods)
        return Period(since, until, label, self.periods[0].span, dated=dated)

    def days_in(self, part: str) -> set[date]:
        """The single days named inside `part` of the question (one of its clauses)."""
        start = max(self.text.find(part), 0)
        end = start + len(part)
        return {p.day for p in self.periods if p.day and start <= p.span[0] < end}


class QueryAnalyser:
    """Recognises the index's outlets (and unknown ones) and dates in a question."""

    def __init__(self, sources: list[str], sites: Mapping[str, str] | None = None) -> None:
        self.outlets = OutletNames(sources, sites)

    def analyse(
        self, question: str, now: datetime | None = None, asked: str | None = None
    ) -> QueryIntent:
        """Parse `question` (`asked` is how it was typed, before spelling correction); time
        words are read against `now` (the clock's time by default)."""
        lowered = question.lower()
        spans, named = self.outlets.find(lowered)
        found = dict.fromkeys(source for sources in named for source in sources)
        unknown: list[str] = []
        for pattern in (_OUTLET_BEFORE, _OUTLET_AFTER):
            for match in pattern.finditer(question):
                start, end = match.span("name")
                name = match.group("name").strip("'\"”’ ")
                if any(s < end and start < e for s, e in spans) or not _is_name(name):
                    continue
                # "according to" cites people and companies too ("according to Google")
                cited = match.groupdict().get("cited") is not None
                if (outlet_like(name) or not cited) and not self.outlets.is_outlet(name):
                    unknown.append(name)
        unknown += self.outlets.unindexed(lowered, spans)
        periods = tuple(periods_in(question, now or datetime.now(UTC), spans))
        dates = tuple(dict.fromkeys(p.day for p in periods if p.day))
        names = [
            name
            for name, (start, end) in names_in(question)
            if not any(s < end and start < e for s, e in spans) and not self.outlets.is_outlet(name)
        ]
        return QueryIntent(
            asked if asked is not None else question,
            question,
            tuple(query_terms(without_asking(without_periods(question, list(periods))))),
            periods,
            wants_recent(question),
            bool(_STORY.search(question)),
            answer_kind(question),
            tuple(found),
            tuple(dict.fromkeys(unknown)),
            dates,
            tuple(dict.fromkeys(names)),
            _clauses(question, spans, named),
            claims_in(question),
            ahead=looks_ahead(asked if asked is not None else question),
            outlet_words=frozenset(w for s, e in spans for w in words(lowered[s:e])),
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


_STORY = re.compile(
    r"\bhow (?:did|has|have|do|does|is|are|was|were)\b.{2,80}?\b"
    r"(?:unfold(?:ed|ing)?|develop(?:ed|ing)?|evolve[ds]?|evolving|play(?:ed)? out"
    r"|progress(?:ed)?)\b|\btimeline (?:of|for|on)\b"
    r"|\bhow .{2,60} (?:has|have) (?:changed|moved|developed) over time\b",
    re.IGNORECASE,
)
_CLAIM_BREAK = re.compile(r"[,;?]|\b(?:and|while|but|whereas|also)\b", re.IGNORECASE)


def claims_in(question: str, min_terms: int = 3) -> tuple[str, ...]:
    """Cut a question at commas and at the words that join claims: "Which company, sued by X,
    also reported Y and Z?" gives "sued by X", "reported Y", "Z" (those with `min_terms`
    content words or more)."""
    parts = (part.strip() for part in _CLAIM_BREAK.split(question))
    return tuple(part for part in parts if len(query_terms(part)) >= min_terms)


# Capitalised words that start a question or a keyword list rather than a name.
_NOT_NAME_WORDS = STOPWORDS | set(WEEKDAYS) | set(_MONTHS) | {
    "did", "does", "do", "is", "are", "was", "were", "has", "have", "had", "will", "would",
    "can", "could", "should", "may", "might", "must", "shall", "who", "whom", "whose", "what",
    "when", "where", "why", "how", "which", "tell", "show", "give", "find", "any", "anything",
    "news", "latest", "update", "updates", "please", "hey", "hi", "so", "ok", "okay", "yes",
    "i", "im", "i'm", "we", "you", "they", "he", "she", "it", "there", "here",
}  # fmt: skip
_NAME_JOINERS = {"of", "de", "van", "von", "del", "da", "la", "le", "bin", "al"}
_TOKEN = re.compile(r"[\w][\w\-'’.&]*")


def names_in(question: str) -> list[tuple[str, tuple[int, int]]]:
    """Names of two or more capitalised words ("Layton Williams", "Bank of England"), with
    their spans. Question words and auxiliaries are not part of a name ("Did Sam Altman" is
    "Sam Altman"); a question typed in Title Case or capitals names nothing this way."""
    tokens = [(m.group(0).rstrip(".'’"), m.span()) for m in _TOKEN.finditer(question)]
    capitalised = [t[0][:1].isupper() for t in tokens]
    longer = [word for word, _ in tokens if len(word) >= 3 and word.isalpha()]
    if len(tokens) >= 3 and longer and all(word[:1].isupper() for word in longer):
        return []
    names: list[tuple[str, tuple[int, int]]] = []
    run: list[tuple[str, tuple[int, int]]] = []

    def close() -> None:
        while run and run[-1][0].lower() in _NAME_JOINERS:
            run.pop()
        if sum(1 for word, _ in run if word.lower() not in _NAME_JOINERS) >= 2:
            start, end = run[0][1][0], run[-1][1][1]
            names.append((question[start:end].removesuffix("'s").removesuffix("’s"), (start, end)))
        run.clear()

    for (word, span), upper in zip(tokens, capitalised, strict=True):
        bare = word.lower().removesuffix("'s").removesuffix("’s")
        if upper and bare not in _NOT_NAME_WORDS:
            run.append((word, span))
            if word.endswith(("'s", "’s")):  # a possessive ends the name
                close()
        elif run and word.lower() in _NAME_JOINERS:
            run.append((word, span))
        else:
            close()
    close()
    return names


_NOT_OUTLETS = set(_MONTHS) | {
    "the", "a", "an", "this", "that", "which", "what", "who", "both", "after", "before",
    "between", "during", "considering", "given", "same", "first", "second", "other", "another",
}  # fmt: skip


def _is_name(name: str) -> bool:
    words = [w for w in name.lower().split() if w not in ("the", "of", "for")]
    return bool(words) and words[0] not in _NOT_OUTLETS
