"""Strip what a page wraps around the story: sign-up prompts, ad markers, share bars, credits.

Scraped bodies carry lines like "CLICK HERE TO SIGN UP FOR OUR HEALTH NEWSLETTER", template code
(`{{ /verifyErrors }}`) and "Please enter a valid email address"; quoted to a reader they look
broken, and in a passage they dilute what it is about. Every pattern here was taken from real
scraped news text. A line is dropped only when it is boilerplate as a whole; photo credits are
cut off the caption they end or from between two sentences, and a page's toolbar from before the
story. `VERSION` is part of each article's content hash, so a change here re-chunks the articles
on their next ingest.
"""

from __future__ import annotations

import re

VERSION = 4

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


# The save / text-size bar some pages put before the story, in the running text:
# "Save Log in , register or subscribe to save articles for later. ... Very large text size".
_TOOLBAR = re.compile(
    r"(?:Save\s+)?Log in\s*,\s*register or subscribe to save articles for later\.\s*"
    r"|Save articles for later\s+Add articles to your saved list and come back to them any "
    r"time\.\s*"
    r"|Got it\s+Normal text size\s+Larger text size\s+Very large text size\s*"
)
# A photo credit between a caption and the next sentence of the running text: "... slumped
# overnight. Credit: AP Wednesday's report from ADP ...". The credit is the capitalised words
# (and "of", "via", "/" ...) after "Credit:"; the sentence starts at an opening double quote,
# or at the last capitalised word before a lower-case one (with a "The" or "In" before it).
_INLINE_CREDIT = re.compile(r"(?:^|(?<=[.!?”\"’)]\s))(?:(?:Mandatory|Image|Photo) )?Credit:\s+")
_CREDIT_WORDS = 9  # a longer run is not a credit
_IN_CREDIT = {"of", "via", "and", "/", "-", "–", "&", "+"}
_OPENERS = set(
    "the a an this these that those his her their its our my in on at for but and as after "
    "when while with by from it he she they we i there what how why".split()
)
_QUOTE_MARKS = '“"'  # a single quote opens a subheading as often: left alone


def _sentence_after_credit(tokens: list[str]) -> int | None:
    """Which of the words after "Credit:" starts the running text again (len(tokens): none
    does, the credit ends the line); None when it is not clear where the credit ends."""
    for i, token in enumerate(tokens[1:_CREDIT_WORDS], 1):
        if token[0] in _QUOTE_MARKS:
            return i
        if token.lower() in _IN_CREDIT or token[0].isupper():
            continue
        if token[0].isdigit() and tokens[i - 1].lower() not in _OPENERS:
            return i  # "Credit: Getty 4 United were ..."
        start = i - 1  # the capitalised word before a lower-case one ("... Getty However, if")
        if start == 0 or tokens[start].lower() in _IN_CREDIT:
            return None  # "Credit: Courtesy of the artist ...": where does it end?
        while start > 1 and tokens[start - 1].lower() in _OPENERS:
            start -= 1  # "... Getty Images The Lions were ..."
        return start
    return len(tokens) if len(tokens) <= _CREDIT_WORDS else None


def _cut_credits(line: str) -> str:
    """The line without photo credits standing between its sentences."""
    match = _INLINE_CREDIT.search(line)
    while match:
        tokens = list(re.finditer(r"\S+", line[match.end() :]))
        start = _sentence_after_credit([t.group() for t in tokens]) if tokens else None
        if start is None:
            match = _INLINE_CREDIT.search(line, match.end())
            continue
        rest = line[match.end() + tokens[start].start() :] if start < len(tokens) else ""
        line = line[: match.start()] + rest
        match = _INLINE_CREDIT.search(line, match.start() + 1)
    return line.rstrip()


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
        stripped = _cut_credits(_TOOLBAR.sub("", _PLACEHOLDER.sub("", line.rstrip())))
        if line.strip() and not stripped.strip():
            continue
        without_credit = _TRAILING_CREDIT.sub("", stripped)
        # a line that was only a credit ("Photograph: Apple") goes; a caption keeps its words
        if stripped and not without_credit.strip():
            continue
        kept.append(without_credit)
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
