"""Strip what a page wraps around the story: sign-up prompts, ad markers, share bars, credits.

Scraped bodies carry lines like "CLICK HERE TO SIGN UP FOR OUR HEALTH NEWSLETTER", template code
(`{{ /verifyErrors }}`) and "Please enter a valid email address"; quoted to a reader they look
broken, and in a passage they dilute what it is about. Every pattern here was taken from real
scraped news text. A line is dropped only when it is boilerplate as a whole; photo credits are
cut off the caption they end. `VERSION` is part of each article's content hash, so a change here
re-chunks the articles on their next ingest.
"""

from __future__ import annotations

import re

VERSION = 2

_FLAGS = re.IGNORECASE
# Lines that are nothing but boilerplate, whatever their case.
_DROP_LINE = [
    re.compile(p, _FLAGS)
    for p in (
        r"\{\{.*\}\}",  # template code: {{ #verifyErrors }} {{ message }} ...
        r"please enter a valid email",
        r"^advertisement\b.{0,40}$",  # "Advertisement", "ADVERTISEMENT Article continues ..."
        r"^article continues (below|after)",
        r"^(skip past newsletter promotion|read this article for free)",
        r"\bnewsletter\b.*\b(sign up|subscribe|inbox|email)\b",
        r"\b(sign up|subscribe)\b.*\bnewsletter\b",
        r"^(facebook|twitter|x|whatsapp|reddit|email|share|linkedin|pinterest|copy link|print)"
        r"(\s+(facebook|twitter|x|whatsapp|reddit|email|share|linkedin|pinterest|copy link|print))+"
        r"\s*$",
        r"\bwe may earn (a )?(small )?(commission|affiliate)",
        r"\bmay include affiliate links\b",
        r"^(related pages|see more|most read|watch now|more|read more|listen|audio|video)\s*:?$",
        r"^america.s favorite video today$",
        r"^was this helpful\??\b",
        r"^quick guide how do i sign up\b",
        r"^(download|get) the .{0,40}\bapp\b",
        r"^©|^\(?copyright\b|^\(?(photograph|photo|image|picture)s?( credit)?:",
        r"\bby (submitting|entering) your email\b",
        r"^(do you (work at|have information|know more)|got a (news )?tip)\b.{0,160}\?\s*$",
        r"^\((getty|ap|reuters|afp|pa|shutterstock|alamy)\b[^()]*\)$",
    )
]
# An all-capitals line that calls to action ("CLICK HERE TO GET THE FOX NEWS APP").
_SHOUTED_CALL = re.compile(r"\b(CLICK|TAP|SIGN UP|SUBSCRIBE|DOWNLOAD|FOLLOW US|READ MORE|WATCH)\b")
# Credits at the end of a caption: "... Photograph: Nigel French/PA", "... Credit: Getty".
_TRAILING_CREDIT = re.compile(
    r"\s*(\((getty|ap photo|reuters|afp|pa|shutterstock)[^()]*\)"
    r"|(photograph|photo|image|credit|image credit):\s*[^.!?]{0,80}"
    r"|\bvia getty( images)?\b)\s*$",
    _FLAGS,
)

# A page widget's placeholder left in the running text, before a sentence or alone:
# "... falling oil prices. Loading The S&P 500 climbed ...", "Loading...". Case-sensitive, and
# only before a capital: "Loading the trucks took hours." is a sentence.
_PLACEHOLDER = re.compile(
    r"(?:^|(?<=[.!?”\"’)]\s))Loading(?:\s*(?:\.\s*){3}|…)?(?:\s+(?=[A-Z“\"‘])|\s*$)"
)


def is_boilerplate(line: str) -> bool:
    """True for a line that is page furniture rather than part of the story."""
    text = line.strip()
    if not text:
        return False
    if any(p.search(text) for p in _DROP_LINE):
        return True
    letters = [c for c in text if c.isalpha()]
    shouted = letters and not any(c.islower() for c in letters) and len(text.split()) >= 3
    return bool(shouted and _SHOUTED_CALL.search(text))


def clean_body(body: str) -> str:
    """The body without boilerplate lines and trailing photo credits; paragraphs kept."""
    kept: list[str] = []
    for line in body.splitlines():
        if is_boilerplate(line):
            continue
        stripped = _PLACEHOLDER.sub("", line.rstrip())
        if line.strip() and not stripped.strip():
            continue
        without_credit = _TRAILING_CREDIT.sub("", stripped)
        # a line that was only a credit ("Photograph: Apple") goes; a caption keeps its words
        if stripped and not without_credit.strip():
            continue
        kept.append(without_credit)
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
