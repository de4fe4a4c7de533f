"""Choosing the sentence(s) of an article to quote: each sentence described by a few features
(the question's words and word pairs it holds, its vector's cosine, the kind of answer asked for,
where it stands, whether it is a caption or an embed) and scored by a linear model fitted on the
dev halves of the everyday-question set and MultiHop-RAG (benchmarks/tune_quotes.py)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from itertools import pairwise

import numpy as np

from corpus.clean import is_boilerplate
from index.chunking import passage_sentences
from index.kinds import kind_test
from index.text import content_stems, stem


@dataclass(frozen=True)
class QuoteWeights:
    """One weight per sentence feature (`sentence_features` gives them in this order): a
    sentence's score is their weighted sum, the log-odds that it is the one that answers.
    Fitted by benchmarks/tune_quotes.py on the dev halves of the everyday-question set and
    MultiHop-RAG (which of an article's sentences holds the evidence)."""

    words: float = -4.697  # share of the question's IDF-weighted words in the sentence
    local: float = 8.178  # the same, words rare among the article's sentences weighing more
    pairs: float = -2.49  # share of the question's adjacent word pairs
    vector: float = 11.672  # the sentence vector's cosine to the question
    kind: float = 2.084  # holds the kind of answer asked for (a number for "how many" ...)
    short: float = -5.17  # fewer than 5 words: rarely the answer
    lede: float = -1.888  # the article's first sentence
    position: float = -1.088  # how far into the article (0 first, 1 last)
    embed: float = -1.119  # a tweet or picture embed, a link: not the reporter's words
    repeated: float = -2.446  # the article has it twice (captions, pull quotes)
    novel: float = -6.215  # share of its content words the question does not use
    heading: float = -3.393  # no closing punctuation: a heading, a caption, a list item
    rarest: float = 1.001  # holds the question's word rarest in the article
    length: float = 3.605  # its content words (log, 1 at 30)
    context: float = 2.338  # the local share of its better neighbour: answers come in paragraphs


FEATURES = tuple(f.name for f in fields(QuoteWeights))
_DEFAULT_COEFFICIENTS = np.array(astuple(QuoteWeights()))

_CLOSED = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_EMBED = re.compile(r"pic\.twitter\.com|https?://|www\.|\(@\w+\)|^@\w+|\s—\s@?\w+ \(@", re.I)


_CLOSERS = "\"'”’)]"
_EMBED_HINTS = ("pic.twitter.com", "http", "www.")


@dataclass(frozen=True, slots=True)
class _Sentence:
    """What quoting reads of a sentence whatever the question."""

    stems: tuple[str, ...]  # its content words' stems, in order
    short: float  # fewer than 5 words
    embed: float  # a tweet or picture embed, a link
    heading: float  # no closing punctuation
    length: float  # its content words (log, 1 at 30)


@lru_cache(maxsize=65536)
def _described(sentence: str) -> _Sentence:
    """(Cached: popular articles come back question after question.)"""
    stems = content_stems(sentence)
    # every way _EMBED matches holds "@" or one of the hints: most sentences skip the regex
    lower = sentence.lower()
    embed = ("@" in sentence or any(h in lower for h in _EMBED_HINTS)) and bool(
        _EMBED.search(sentence)
    )
    # as _CLOSED: end punctuation, then any closing quotes or brackets, then spaces
    closed = sentence.rstrip().rstrip(_CLOSERS)[-1:] in (".", "!", "?", "…")
    return _Sentence(
        stems,
        short=float(len(stems) < 3 and len(sentence.split()) < 5),
        embed=float(embed),
        heading=float(not closed),
        length=math.log1p(len(stems)) / math.log(31),
    )


def read_ahead(sentences: Iterable[str]) -> None:
    """Describe sentences before a question quotes them (what quoting reads of a sentence
    whatever the question, kept in the caches)."""
    for sentence in sentences:
        _described(sentence)
        _furniture(sentence)


_COLUMN = {name: k for k, name in enumerate(FEATURES)}
_WORDS, _LOCAL, _PAIRS, _VECTOR, _KIND, _NOVEL, _RAREST, _CONTEXT = (
    _COLUMN[name]
    for name in ("words", "local", "pairs", "vector", "kind", "novel", "rarest", "context")
)
_OWN = [_COLUMN[name] for name in ("short", "embed", "heading", "length")]


def sentence_features(
    sentences: list[str],
    weights: dict[str, float],
    cosines: tuple[float, ...] | list[float] = (),
    kind: str | None = None,
) -> np.ndarray:
    """`FEATURES` of every sentence (a row each), for the question's IDF `weights` (term ->
    weight)."""
    stems: dict[str, float] = {}
    for term, weight in weights.items():
        key = stem(term)
        stems[key] = max(stems.get(key, 0.0), weight)
    total = sum(stems.values()) or 1.0
    described = [_described(sentence) for sentence in sentences]
    sequences = [d.stems for d in described]
    covers = [stems.keys() & sequence for sequence in sequences]
    # the words that pick the article (in most of its sentences) say little about which
    # sentence answers; those that few of its sentences hold say much
    n = len(sentences)
    held_in = Counter(s for cover in covers for s in cover)
    spread = {s: held_in[s] for s in stems}
    local = {s: w * math.log(1 + n / (1 + spread[s])) for s, w in stems.items()}
    local_total = sum(local.values()) or 1.0
    order = [stem(t) for t in weights]
    pair_weights = {(a, b): local[a] + local[b] for a, b in pairwise(order) if a != b}
    pair_total = sum(pair_weights.values()) or 1.0
    held = [s for s in local if spread[s]]
    rarest = max(held, key=lambda s: local[s]) if held else None
    rows = np.zeros((n, len(FEATURES)))
    if not n:
        return rows
    rows[:, _OWN] = [(d.short, d.embed, d.heading, d.length) for d in described]
    rows[0, _COLUMN["lede"]] = 1.0
    if n > 1:
        rows[:, _COLUMN["position"]] = np.arange(n) / (n - 1)
    counts = Counter(sentences)
    if len(counts) < n:
        rows[:, _COLUMN["repeated"]] = [float(counts[sentence] > 1) for sentence in sentences]
    # a sentence with none of the question's words (most of them) is all novel words
    rows[:, _NOVEL] = [float(bool(sequence)) for sequence in sequences]
    shares = np.zeros(n)
    for k, cover in enumerate(covers):
        if not cover:
            continue
        sequence = sequences[k]
        row = rows[k]
        row[_WORDS] = sum(stems[s] for s in cover) / total
        shares[k] = sum(local[s] for s in cover) / local_total
        # a pair of the question's words needs two of them in the sentence
        if len(cover) > 1 and pair_weights:
            found = {p for p in pairwise(sequence) if p in pair_weights}
            row[_PAIRS] = sum(pair_weights[p] for p in found) / pair_total
        row[_NOVEL] = (len(sequence) - sum(map(sequence.count, cover))) / len(sequence)
        row[_RAREST] = float(rarest in cover)
    rows[:, _LOCAL] = shares
    if len(cosines) == n:
        rows[:, _VECTOR] = cosines
    if kind is not None:
        holds_kind = kind_test(kind, set(weights))
        rows[:, _KIND] = [float(holds_kind(sentence)) for sentence in sentences]
    if n > 1:  # the local share of its better neighbour
        context = rows[:, _CONTEXT]
        context[:-1] = shares[1:]
        np.maximum(context[1:], shares[:-1], out=context[1:])
    return rows


def pick_quotes(
    sentences: list[str],
    weights: dict[str, float],
    *,
    cosines: tuple[float, ...] | list[float] = (),
    kind: str | None = None,
    limit: int = 2,
    tuning: QuoteWeights | None = None,
) -> tuple[str, ...]:
    """The `limit` sentences most likely to answer the question, best first. Page boilerplate
    is never quoted, nor one sentence twice.

    More than one is quoted: the best sentence holds the answer in about half the cases, the
    best two in two thirds, three in 70% (benchmarks/tune_quotes.py); the runner-up is often
    the one that says why or how much.
    """
    if not sentences:
        return ()
    coefficients = _coefficients(tuning) if tuning else _DEFAULT_COEFFICIENTS
    scores = (sentence_features(sentences, weights, cosines, kind) @ coefficients).tolist()
    quotes: list[str] = []
    for i in sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:QUOTE_CANDIDATES]:
        i = _answer_to(sentences, i)
        if sentences[i] not in quotes and not _furniture(sentences[i]):
            quotes.append(sentences[i])
            if len(quotes) >= limit:
                break
    return tuple(quotes)


QUOTE_CANDIDATES = 8  # the best-scoring sentences looked at for a quote


def _answer_to(sentences: list[str], i: int) -> int:
    """The sentence after a question the article asks itself ("What is a prop bet?", an
    interviewer's question, an FAQ heading): a question quoted back answers nothing; the
    article's answer follows it."""
    if i + 1 < len(sentences) and _asks(sentences[i]) and not _asks(sentences[i + 1]):
        return i + 1
    return i


def _asks(sentence: str) -> bool:
    """Ends in a question of its own (not in someone's quoted words: "... if I had stayed?”")."""
    return sentence.rstrip().endswith("?")


@lru_cache(maxsize=64)
def _coefficients(tuning: QuoteWeights) -> np.ndarray:
    return np.array(astuple(tuning))


@lru_cache(maxsize=65536)
def _furniture(sentence: str) -> bool:
    return is_boilerplate(sentence)


def best_sentences(
    passage: str,
    weights: dict[str, float],
    limit: int = 2,
    cosines: tuple[float, ...] = (),
    tuning: QuoteWeights | None = None,
) -> tuple[str, ...]:
    """`pick_quotes` over one passage's sentences."""
    return pick_quotes(
        list(passage_sentences(passage)), weights, cosines=cosines, limit=limit, tuning=tuning
    )
