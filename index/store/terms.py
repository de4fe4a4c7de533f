"""Text as FTS5's `porter unicode61 remove_diacritics 2` tokenizer reads it, for the stores
that are not FTS5: Milvus' BM25 field and PostgreSQL's term columns hold these tokens, so
their counts and scores match the embedded index's.

PyStemmer (the `scale` extra) is imported on first use: the embedded index never needs it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict

_TOKEN = re.compile(r"[^\W_]+")
_stemmers = threading.local()  # a PyStemmer object is not safe to share between threads
# PostgreSQL: a lexeme's positions are capped at 256, its length at 2,047 bytes
_MAX_POSITIONS = 255
_MAX_LEXEME = 2_000


def analysed(text: str) -> str:
    """The text as FTS5's porter tokenizer indexes it: lower case, accents folded, split at
    anything not a letter or digit, and tokens of three characters or more reduced to their
    Porter stem ("stealing" -> "steal"); the tokens joined by spaces."""
    folded = text.lower()
    if not folded.isascii():
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
        )
    tokens = _TOKEN.findall(folded)
    stemmer = getattr(_stemmers, "porter", None)
    if stemmer is None:
        import Stemmer

        stemmer = _stemmers.porter = Stemmer.Stemmer("porter")
    stems = stemmer.stemWords(tokens)
    return " ".join(s if len(t) > 2 else t for t, s in zip(tokens, stems, strict=True))


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(text: str) -> str:
    """A PostgreSQL `tsvector` literal of the text's analysed tokens with their positions
    (built here, not by PostgreSQL's parser, which splits other than FTS5 does)."""
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, token in enumerate(analysed(text).split(), start=1):
        held = positions[token]
        if len(held) < _MAX_POSITIONS and len(token.encode()) <= _MAX_LEXEME:
            held.append(min(position, 16_383))
    return " ".join(
        f"{_lexeme(token)}:{','.join(map(str, held))}" for token, held in positions.items() if held
    )


def tsquery_phrase(text: str) -> str | None:
    """A `tsquery` literal matching the text's tokens in a row (an FTS5 phrase); None when
    it has no token."""
    tokens = analysed(text).split()
    return " <-> ".join(_lexeme(t) for t in tokens) if tokens else None
