"""Split an article into sentence-aligned passages that fit the embedding model's window.

Every passage carries a header (title, outlet, date) in the text that is embedded, and
neighbouring passages share a sentence, so a sentence is never only cut in half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from corpus.models import Article

TokenCounter = Callable[[Sequence[str]], list[int]]

# Words after which a period does not end a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep", "rev",
    "lt", "col", "capt", "sgt", "inc", "ltd", "co", "corp", "vs", "etc", "no", "fig", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "e.g", "i.e", "a.m", "p.m", "approx", "dept", "est", "ft", "vol",
}  # fmt: skip
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n+")
_LAST_WORD = re.compile(r"([A-Za-z.]+)\.[\"'”’)\]]*$")


def split_sentences(text: str) -> list[str]:
    """Regex sentence splitter: good enough for news prose, no model download."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start : match.end()].strip()
        if "\n" not in match.group(0):
            last = _LAST_WORD.search(piece)
            if last:
                word = last.group(1).lower()
                if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
        if piece:
            sentences.append(" ".join(piece.split()))
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(" ".join(tail.split()))
    return sentences


@lru_cache(maxsize=16384)
def passage_sentences(text: str) -> tuple[str, ...]:
    """`split_sentences` of a stored passage, cached: the passages of popular stories are
    ranked and quoted question after question."""
    return tuple(split_sentences(text))


@dataclass(frozen=True)
class Chunk:
    """One passage of an article: `text` is what is quoted and scored, `embed_text` is embedded."""

    position: int
    text: str
    embed_text: str
    n_tokens: int


def header_for(article: Article) -> str:
    parts = [article.title]
    if article.source:
        parts.append(article.source)
    if article.published_at:
        parts.append(article.published_at.strftime("%B %-d, %Y"))
    return " | ".join(parts)


def article_sentences(article: Article) -> list[str]:
    """Highlights first (they are the article's own summary), then the body."""
    sentences: list[str] = []
    for highlight in article.highlights:
        sentences.extend(split_sentences(highlight))
    sentences.extend(split_sentences(article.body))
    return sentences


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    max_tokens: int = 256,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Pack whole sentences into passages of at most `max_tokens` model tokens.

    The budget covers the header and the model's two special tokens too, so the embedded text is
    never truncated by the model. A sentence longer than the budget is cut at word boundaries.
    """
    header = header_for(article)
    header_tokens = count_tokens([header + " ."])[0]
    budget = max(32, max_tokens - 2 - header_tokens)

    sentences = article_sentences(article)
    counts = count_tokens(sentences) if sentences else []
    pieces: list[tuple[str, int]] = []
    for sentence, n in zip(sentences, counts, strict=True):
        if n <= budget:
            pieces.append((sentence, n))
        else:
            pieces.extend(_split_long(sentence, budget, count_tokens))

    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and used + pieces[j][1] <= budget:
            used += pieces[j][1]
            j += 1
        # one sentence a line: a heading or a line without end punctuation ("CLICK HERE ...")
        # stays a sentence of its own when the passage is split again for quoting
        text = "\n".join(p[0] for p in pieces[i:j])
        chunks.append(Chunk(len(chunks), text, f"{header}. {text}", used + header_tokens))
        if j >= len(pieces):
            break
        # step back a sentence or two for overlap, but always make progress
        i = max(i + 1, j - overlap_sentences)
    return chunks


def _split_long(sentence: str, budget: int, count_tokens: TokenCounter) -> list[tuple[str, int]]:
    words = sentence.split()
    counts = count_tokens(words)
    pieces: list[tuple[str, int]] = []
    current: list[str] = []
    used = 0
    for word, n in zip(words, counts, strict=True):
        if current and used + n > budget:
            pieces.append((" ".join(current), used))
            current, used = [], 0
        current.append(word)
        used += n
    if current:
        pieces.append((" ".join(current), used))
    return pieces


def sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Where each sentence of `split_sentences(chunk.text)` lies in `chunk.embed_text`.

    Retrieval scores a chunk's sentences in this same order, so row k of the chunk's sentence
    vectors is sentence k.
    """
    base = len(chunk.embed_text) - len(chunk.text)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in split_sentences(chunk.text):
        at = chunk.text.find(sentence, cursor)
        if at < 0:  # whitespace differs: fall back to the stretch after the last one
            at = cursor
        end = min(len(chunk.text), at + len(sentence))
        spans.append((base + at, base + end))
        cursor = end
    return spans
