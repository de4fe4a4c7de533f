"""Misspelled question words corrected against the words the index holds.

"does ozempic cause stomach paralisys" should find the report on paralysis. A word that no chunk
contains, four letters or longer, is replaced by the most common indexed word one edit away (a
letter missing, extra, wrong or two letters swapped: Norvig's `edits1`), keeping its first
letter where it can; a word of seven letters or more may be two edits away. Words the index
holds are never touched, so names it knows stay as typed, nor are English words it lacks (a
small index has no "decide": that is not "decade"); a possessive is corrected as its
name ("wembanyma's" -> "wembanyama's"). A word with no such correction may still take a rarer
one (one chunk, or two edits from a shorter word) that stands beside the same neighbour in
some chunk: "jennifer anniston" -> "jennifer aniston"; and of several corrections, the one
beside its neighbour wins over a commoner one ("boris beker" -> "becker", not "baker"). Two
words written as one are split where the index has them side by side ("blackfriday" -> "black
friday").
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from difflib import SequenceMatcher

from index.store import Store
from index.text import STOPWORDS

# whole tokens, as `index.text.words` cuts them: "mar-a-lago" and "daam1" are one word each
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
MIN_LENGTH = 4
MIN_CHUNKS = 2  # a suggestion must be a word at least this many chunks use
TWO_EDITS_LENGTH = 7  # words this long may be two edits from the intended one
# beside a word it stands beside in the index, a correction may be rarer and shorter
CONTEXT_TWO_EDITS_LENGTH = 5
CONTEXT_CANDIDATES = 5  # the most common candidates tried as a phrase with their neighbour
SPLIT_PART = 3  # the shortest word a word written as two may be split into


def spelling_changes(typed: str, corrected: str) -> tuple[tuple[str, str], ...]:
    """(as typed, as corrected) for each word `Speller.correct` changed, in order; a word it
    split is one change ("blackfriday", "black friday")."""
    a, b = _WORD.findall(typed), _WORD.findall(corrected)
    matcher = SequenceMatcher(a=[w.lower() for w in a], b=[w.lower() for w in b], autojunk=False)
    return tuple(
        (" ".join(a[i1:i2]), " ".join(b[j1:j2]))
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op == "replace"
    )


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
        self._unknown: set[str] = set()  # words no chunk holds
        self._in_context: dict[tuple[str, str, str], str | None] = {}
        self._ranked: dict[str, list[str]] = {}  # a word's corrections, commonest first
        self._enabled: bool | None = None

    def clear(self) -> None:
        self._cache = {}
        self._unknown = set()
        self._in_context = {}
        self._ranked = {}
        self._enabled = None

    def correct(self, text: str, common_word: Callable[[str], bool] | None = None) -> str:
        """`text` with each unknown word replaced by its correction, where there is one. A
        word capitalised inside a sentence is a name the index may not know ("What did
        Grok's ..."): it is not turned into an everyday word (`common_word`: "grow")."""
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
                if word in known:
                    self._cache[word] = None
                    continue
                self._unknown.add(word)
                # an English word the index lacks is not a typo: "decide" is not "decade"
                english = common_word is not None and common_word(word)
                self._cache[word] = None if english else self._suggest(word)
        names = _name_cased(text, found) if common_word else set()
        out, last = [], 0
        for k, (((start, end), word), low) in enumerate(zip(found, lowered, strict=True)):
            fix = self._cache.get(low)
            if low in self._unknown and not (common_word and common_word(low)):
                before = lowered[k - 1] if k > 0 else ""
                after = lowered[k + 1] if k + 1 < len(lowered) else ""
                if fix is None:
                    fix = self._beside(low, before, after)
                else:
                    fix = self._in_phrase(low, fix, before, after)
            if fix and k in names and common_word(_without_possessive(fix)):
                continue
            if fix:
                out.append(text[last:start])
                out.append(fix.capitalize() if word[:1].isupper() else fix)
                last = end
        out.append(text[last:])
        return "".join(out)

    def _suggest(self, word: str) -> str | None:
        base = _without_possessive(word)
        if base != word:  # "wembanyma's": the name corrected, the possessive kept
            if self.store.known_words([base]):
                return None
            fix = self._suggest(base)
            return fix + word[len(base) :] if fix else None
        if not _correctable(word):
            return None
        counts = self.store.known_words(sorted(edits1(word)))
        counts = {w: n for w, n in counts.items() if n >= MIN_CHUNKS}
        if not counts and len(word) >= TWO_EDITS_LENGTH:  # "paralisys"
            counts = {w: n for w, n in self._two_edits(word, 2).items() if n >= MIN_CHUNKS}
        # typos rarely hit the first letter: "kelse" is "kelce", not "else"
        ranked = sorted(counts.items(), key=lambda item: (item[0][0] == word[0], item[1], item[0]))
        self._ranked[word] = [w for w, _ in reversed(ranked)][:CONTEXT_CANDIDATES]
        return ranked[-1][0] if ranked else self._split(word)

    def _in_phrase(self, word: str, fix: str, before: str, after: str) -> str | None:
        """Of a word's corrections, the first that stands beside the question's neighbour in
        some chunk ("boris beker" is the "boris becker" of an article, not the commoner
        "baker"); `fix`, the commonest, when it does or none does."""
        key = (before, word, after)
        if key not in self._in_context:
            base = _without_possessive(word)
            chosen = fix
            for candidate in self._ranked.get(base, ()):
                if self._beside_neighbour(candidate, word, before, after):
                    chosen = candidate + word[len(base) :]
                    break
            self._in_context[key] = chosen
        return self._in_context[key]

    def _split(self, word: str) -> str | None:
        """Two words written as one, as in a hashtag ("spiderman", "blackfriday"): the two
        the index most often has side by side."""
        if len(word) < 2 * SPLIT_PART:
            return None
        halves = [(word[:i], word[i:]) for i in range(SPLIT_PART, len(word) - SPLIT_PART + 1)]
        known = self.store.known_words([part for pair in halves for part in pair])
        best, most = None, MIN_CHUNKS - 1
        for first, second in halves:
            if first in known and second in known:
                together = self.store.phrase_chunks(f"{first} {second}") or 0
                if together > most:
                    best, most = f"{first} {second}", together
        return best

    def _two_edits(self, word: str, prefix: int) -> dict[str, int]:
        """Indexed words at most two edits from `word` that start with its first `prefix`
        letters (typos rarely hit the start), with their chunk counts."""
        near = self.store.words_like(word[:prefix], len(word) - 2, len(word) + 2)
        return {w: n for w, n in near.items() if distance(word, w) <= 2}

    def _beside(self, word: str, before: str, after: str) -> str | None:
        """A rarer correction, taken only where it stands beside the word the question has
        beside it in some chunk: "jennifer anniston" is the "jennifer aniston" of one article,
        "savana montano" the "savannah montano" of another. Names are often misspelled and
        often in one article only, too rare for `_suggest`."""
        key = (before, word, after)
        if key not in self._in_context:
            self._in_context[key] = self._phrase_fix(word, before, after)
        return self._in_context[key]

    def _phrase_fix(self, word: str, before: str, after: str) -> str | None:
        base = _without_possessive(word)
        if not _correctable(base):
            return None
        if base != word and self.store.known_words([base]):
            return None  # "trump's": the name is known
        if not self._neighbours(before, after):
            return None
        counts = self.store.known_words(sorted(edits1(base)))
        if len(base) >= CONTEXT_TWO_EDITS_LENGTH:  # three letters alike: few to compare
            counts.update(self._two_edits(base, 3))
        counts.pop(base, None)
        for candidate in sorted(counts, key=lambda w: (-counts[w], w))[:CONTEXT_CANDIDATES]:
            if self._beside_neighbour(candidate, word, before, after):
                return candidate + word[len(base) :]
        return None

    def _neighbours(self, before: str, after: str) -> list[str]:
        """The words beside one that can confirm its correction (known, not stopwords)."""
        return [n for n in (before, after) if n and n not in STOPWORDS and n not in self._unknown]

    def _beside_neighbour(self, candidate: str, word: str, before: str, after: str) -> bool:
        """Some chunk has `candidate` (correcting `word`) beside one of its neighbours."""
        neighbours = self._neighbours(before, after)
        phrases = []
        if before in neighbours:
            phrases.append(f"{_without_possessive(before)} {candidate}")
        if after in neighbours and _without_possessive(word) == word:
            phrases.append(f"{candidate} {_without_possessive(after)}")
        return any((self.store.phrase_chunks(p) or 0) > 0 for p in phrases)


def _correctable(word: str) -> bool:
    """A word spelling may correct: long enough, alphabetic, not a stopword."""
    return len(word) >= MIN_LENGTH and word not in STOPWORDS and word.isalpha()


def _without_possessive(word: str) -> str:
    return word.removesuffix("'s").removesuffix("’s")


def _name_cased(text: str, found: list[tuple[tuple[int, int], str]]) -> set[int]:
    """Which words are capitalised where a sentence does not start (none when most words
    are: Title Case or capitals say nothing of names)."""
    capitalised = [word[:1].isupper() for _, word in found]
    if sum(capitalised) * 2 > len(found):
        return set()
    return {
        k
        for k, ((start, _), _) in enumerate(found)
        if capitalised[k] and k > 0 and text[:start].rstrip()[-1:] not in (".", "!", "?")
    }


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent swaps (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
