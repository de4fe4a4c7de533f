"""How a question names an outlet: by the name its feed gives ("The Guardian", "FOX News -
Health"), by the name people use in passing ("guardian", "bbc", "nyt") or by its web address
("cbs sports" for cbssports.com, "the athletic" for theathletic.com, "smh" for smh.com.au)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

_SEPARATORS = re.compile(r"\s+-\s+|\s+\|\s+|:\s+")


def outlet_aliases(source: str) -> set[str]:
    """Ways a question may name an outlet: `FOX News - Health` is also `FOX News`."""
    names = {source.strip()}
    short = _SEPARATORS.split(source.strip())[0].strip()
    if short:
        names.add(short)
    return {n.lower() for n in names if len(n) >= 3}


def everyday_aliases(source: str) -> set[str]:
    """How people name an outlet in passing: "guardian" for The Guardian, "bbc" for BBC News,
    "nyt" for The New York Times. Many are everyday words ("age", "verge"), so they count only
    where an outlet is meant."""
    short = _SEPARATORS.split(source.strip())[0].strip()
    names = {short.removeprefix("The ").removeprefix("the ")}
    parts = short.split()
    first = parts[0] if parts else ""
    if len(first) >= 3 and first.isupper():  # an acronym: BBC, CNBC, FOX
        names.add(first)
    initials = "".join(w[0] for w in short.removeprefix("The ").split() if w[0].isalpha())
    if len(initials) >= 3:  # The New York Times: nyt; Sydney Morning Herald: smh
        names.add(initials)
    return {n.lower() for n in names if len(n) >= 3} - outlet_aliases(source)


# the parts of a web address that name no outlet: "www", top-level domains ("com", "co.uk")
_NOT_SITE = {"www", "com", "org", "net", "gov", "edu", "info", "biz"}


def site_name(url: str | None) -> str | None:
    """The outlet's name in its web address: "cbssports" for https://www.cbssports.com/nfl/...,
    "nine" for wwos.nine.com.au (not the subdomain: arizona.rivals.com is Rivals)."""
    labels = (urlsplit(url or "").hostname or "").split(".")
    while labels and (labels[-1] in _NOT_SITE or len(labels[-1]) <= 2):
        labels.pop()
    name = labels[-1] if labels else ""
    return name if len(name) >= 3 and name != "news" else None


# where a loosely named outlet is meant: "guardian report on ...", "bbc: ...", "according to
# guardian", "per nyt, ...", a question that starts "verge on ..."
_CUE_AFTER = (
    r"(?=\s*(?::|—|–|\s-\s)|(?:['’]s)?\s+(?:report|reports|reported|piece|story|article|"
    r"says|said|say|interview|roundup|coverage|column|analysis|podcast)\b)"
)
_CUE_BEFORE = r"according to\s+"
_CUE_PER = r"\bper\s+"  # only with a comma after: "per nine innings" names no outlet
_CUE_START = r"^\W*(?:the\s+)?"  # with "on" after


# news outlets a question may name that an index may not have ("what did bloomberg say"):
# named so, with a cue, they are outlets even in lower case
OTHER_OUTLETS = frozenset(
    """bloomberg reuters forbes espn cnet cnn politico axios cricbuzz cricinfo espncricinfo
    gizmodo buzzfeed huffpost npr msnbc nbc newsweek zdnet venturebeat techradar tmz billboard
    pitchfork wsj marketwatch kotaku ign gamespot eurogamer pcmag pcworld yourstory scmp nikkei
    xinhua macrumors 9to5mac""".split()
) | {
    "ars technica", "washington post", "wall street journal", "the economist", "the atlantic",
    "new yorker", "al jazeera", "sky news", "daily mail", "the telegraph", "usa today",
    "la times", "los angeles times", "business insider", "yahoo finance", "the hindu",
    "times of india", "hindustan times", "economic times", "rolling stone", "sports illustrated",
    "bleacher report", "the ringer", "android authority", "abc news", "cbs news", "nbc news",
    "associated press", "south china morning post", "le monde", "der spiegel", "the information",
    "variety", "deadline", "people magazine", "time magazine", "the hill", "the times",
}  # fmt: skip
# a word that makes a capitalised name an outlet's ("Deccan Herald", "Search Engine Land")
_OUTLET_WORD = re.compile(
    r"\b(?:news|times|post|journal|herald|tribune|daily|press|gazette|telegraph|observer|"
    r"standard|mail|express|chronicle|register|reporter|magazine|weekly|radio|tv|network|media|"
    r"wire|insider|today|sports?|digest|monitor|courier|inquirer|dispatch|examiner|review|"
    r"land|world)\b|\w\.(?:com|net|org)\b",
    re.IGNORECASE,
)
# of those, the ones that are not everyday words: found in lower case too ("per reuters, ...")
_PLAIN = OTHER_OUTLETS - {"variety", "deadline", "the information", "the hill", "the times"}


def outlet_like(name: str) -> bool:
    """A name a question cites (\"according to X\") is an outlet's, not a person's or a
    company's ("according to Google", "according to Samu Kerevi"): a known outlet, or a name
    with a newspaper's word in it ("The Korea Herald")."""
    key = " ".join(name.lower().replace("’", "'").removesuffix("'s").split())
    return (
        key in OTHER_OUTLETS
        or key.removeprefix("the ") in OTHER_OUTLETS
        or bool(_OUTLET_WORD.search(name))
    )


def _written(alias: str) -> str:
    """A pattern for an alias as people type it: one written as a single word may be typed as
    several ("cbssports": "cbs sports", "theathletic": "the athletic")."""
    if " " in alias:
        return re.escape(alias)
    return r"[\s-]?".join(re.escape(c) for c in alias)


def _squashed(text: str) -> str:
    return re.sub(r"[\s-]+", "", text)


def _cued(aliases: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern for the aliases where a cue says an outlet is meant (a group per cue)."""
    names = "|".join(_written(a) for a in sorted(aliases, key=len, reverse=True))
    if not names:
        return None
    return re.compile(
        rf"(?<![\w])({names})(?![\w]){_CUE_AFTER}|{_CUE_BEFORE}({names})(?![\w])"
        rf"|{_CUE_PER}({names})(?=\s*,)|{_CUE_START}({names})(?=\s+on\b)"
    )


class OutletNames:
    """Finds where a question names one of the index's outlets, and which."""

    def __init__(self, sources: list[str], sites: Mapping[str, str] | None = None) -> None:
        self.alias_to_sources: dict[str, set[str]] = {}
        for source in sources:
            for alias in outlet_aliases(source):
                self.alias_to_sources.setdefault(alias, set()).add(source)
        loose: dict[str, set[str]] = {}  # squashed alias -> sources
        for source in sources:
            names = everyday_aliases(source)
            site = site_name((sites or {}).get(source))
            if site:
                names.add(site)
            for alias in names - self.alias_to_sources.keys():
                loose.setdefault(_squashed(alias), set()).add(source)
        # longest aliases first, so "The Independent - Sports" wins over "The Independent"
        ordered = sorted(self.alias_to_sources, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in ordered) + r")(?![\w])")
            if ordered
            else None
        )
        self._loose = loose
        self._loose_pattern = _cued(loose)
        indexed = {_squashed(a.removeprefix("the ")) for a in self.alias_to_sources}
        others = {
            a for a in _PLAIN if _squashed(a.removeprefix("the ")) not in indexed | loose.keys()
        }
        self._other_pattern = _cued(others)

    def find(self, lowered: str) -> tuple[list[tuple[int, int]], list[tuple[str, ...]]]:
        """Each span of the (lowercased) question that names an outlet, in order, and the
        outlet(s) it stands for."""
        spans: list[tuple[int, int]] = []
        named: list[tuple[str, ...]] = []
        if self._pattern:
            for match in self._pattern.finditer(lowered):
                spans.append(match.span())
                named.append(tuple(sorted(self.alias_to_sources[match.group(1)])))
        if self._loose_pattern:
            for match in self._loose_pattern.finditer(lowered):
                group = next(k for k in range(1, 5) if match.group(k))
                span = match.span(group)
                if not any(s < span[1] and span[0] < e for s, e in spans):
                    spans.append(span)
                    named.append(tuple(sorted(self._loose[_squashed(match.group(group))])))
            order = sorted(range(len(spans)), key=spans.__getitem__)
            spans, named = [spans[k] for k in order], [named[k] for k in order]
        return spans, named

    def unindexed(self, lowered: str, taken: list[tuple[int, int]]) -> list[str]:
        """Outlets the index lacks that the (lowercased) question names with a cue ("what did
        bloomberg say about ...", "per reuters, ..."), outside the `taken` spans."""
        found = []
        for match in self._other_pattern.finditer(lowered) if self._other_pattern else ():
            group = next(k for k in range(1, 5) if match.group(k))
            start, end = match.span(group)
            if not any(s < end and start < e for s, e in taken):
                found.append(match.group(group))
        return found

    def is_outlet(self, name: str) -> bool:
        """The name is (a piece of) an indexed outlet's: "Sky" of Sky Sports is no person to
        look for, "World Business News Leader" of CNBC's no outlet the index lacks."""
        return any(name.lower() in alias for alias in self.alias_to_sources)
