"""Small text helpers shared by retrieval and quoting: query terms and a crude stemmer."""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves s t don
    according article articles report reported reports reporting news published piece
    doesnt dont didnt isnt wasnt werent arent cant couldnt wont wouldnt shouldnt hasnt havent
    hadnt whats whos hows wheres whens thats theres im ive youre theyre""".split()
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def words(text: str) -> list[str]:
    """Its words, lower-cased (the text is lower-cased once, not word by word: the same words
    for every text but one with a Kelvin sign or a dotted capital I)."""
    return [w.strip("'-") for w in _WORD.findall(text.lower().replace("’", "'"))]


def query_terms(question: str) -> list[str]:
    """Content words of a question, in order, without duplicates: no single letters but "x",
    the platform once called Twitter ("what went around on x this week")."""
    seen: dict[str, None] = {}
    for word in words(question):
        word = word.removesuffix("'s")
        if word and word not in STOPWORDS and (len(word) > 1 or word.isdigit() or word == "x"):
            seen.setdefault(word, None)
    return list(seen)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix stripper, enough to match `talks` with `talk` when picking quotes."""
    word = word.lower().removesuffix("'s")
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=4096)
def word_stems(text: str) -> frozenset[str]:
    """The stems of every word of a text. Cached: a passage is judged for the answer, again
    for its citation, and for topic coverage."""
    return frozenset(stem(w) for w in words(text))


@lru_cache(maxsize=65536)
def content_stems(sentence: str) -> tuple[str, ...]:
    """The stems of a sentence's content words, in order. Cached: the rerank and quoting read
    the same sentences, and popular articles come back question after question."""
    return tuple(stem(w) for w in words(sentence) if w not in STOPWORDS)


def vocabulary_words(text: str) -> list[str]:
    """The words spelling correction can suggest: alphabetic, three letters or more, a
    possessive's "'s" left off ("Aniston's" is the name "aniston", which a question may
    misspell)."""
    found = (w.removesuffix("'s") for w in words(text))
    return [w for w in found if len(w) >= 3 and w.isalpha()]
