"""Misspelled question words corrected against the words the index holds.

"does ozempic cause stomach paralisys" should find the report on paralysis. A word that no chunk
contains, four letters or longer, is replaced by the most common indexed word one edit away (a
letter missing, extra, wrong or two letters swapped: Norvig's `edits1`). Words the index holds
are never touched, so names it knows stay as typed.
"""

from __future__ import annotations

import re
import string

from index.store import Store
from index.text import STOPWORDS

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
MIN_LENGTH = 4
MIN_CHUNKS = 2  # a suggestion must be a word at least this many chunks use


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)


class Speller:
    """Corrects questions against one index's vocabulary (cache per index generation)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, str | None] = {}
        self._enabled: bool | None = None

    def clear(self) -> None:
        self._cache = {}
        self._enabled = None

    def correct(self, text: str) -> str:
        """`text` with each unknown word replaced by its correction, where there is one."""
        if self._enabled is None:
            self._enabled = self.store.has_vocabulary()
        if not self._enabled:
            return text
        found = [(m.span(), m.group(0)) for m in _WORD.finditer(text)]
        lowered = [w.lower() for _, w in found]
        todo = [w for w in lowered if w not in self._cache]
        if todo:
            known = self.store.known_words(todo)
            for word in todo:
                self._cache[word] = self._suggest(word) if word not in known else None
        out, last = [], 0
        for ((start, end), word), low in zip(found, lowered, strict=True):
            fix = self._cache.get(low)
            if fix:
                out.append(text[last:start])
                out.append(fix.capitalize() if word[:1].isupper() else fix)
                last = end
        out.append(text[last:])
        return "".join(out)

    def _suggest(self, word: str) -> str | None:
        if len(word) < MIN_LENGTH or word in STOPWORDS or not word.isalpha():
            return None
        counts = self.store.known_words(sorted(edits1(word)))
        best = max(counts.items(), key=lambda item: (item[1], item[0]), default=None)
        return best[0] if best and best[1] >= MIN_CHUNKS else None
