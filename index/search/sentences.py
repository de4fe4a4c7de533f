"""A chunk's sentences as the rerank reads them: their words and word pairs (`Sentences`, a
pure function of the text) and their vectors' closeness to the question and its parts
(`Probes`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

from index.chunking import passage_sentences
from index.text import content_stems


@dataclass
class Probes:
    """The re-ranked chunks' texts, and how close each one's closest sentence vector comes to
    the question and to each part of it (read once per search, used by every rerank step)."""

    texts: dict[int, str]
    best: dict[int, np.ndarray]  # chunk id -> max cosine per probe
    columns: dict[str | None, int]  # a part of the question (None: all of it) -> its column
    sentences: dict[int, np.ndarray]  # chunk id -> each sentence's cosine to the question

    @classmethod
    def read(
        cls,
        texts: dict[int, str],
        matrices: dict[int, np.ndarray],
        keys: list[str | None],
        probes: list[np.ndarray],
    ) -> Probes:
        # one small product per chunk: a single large one would wake BLAS threads that then
        # spin against the model's threads on the next question
        probe_matrix = np.ascontiguousarray(np.stack(probes).T)
        products = {i: matrices[i] @ probe_matrix for i in texts if i in matrices}
        best = {i: p.max(axis=0) for i, p in products.items() if len(p)}
        sentences = {i: p[:, 0] for i, p in products.items()}
        return cls(texts, best, {key: k for k, key in enumerate(keys)}, sentences)

    def closest(self, chunk_id: int, part: str | None = None) -> float:
        """Cosine of the chunk's sentence closest to the question, or to one `part` of it (0
        when the chunk has no sentence vectors stored)."""
        row = self.best.get(chunk_id)
        return float(row[self.columns[part]]) if row is not None else 0.0


@dataclass(frozen=True)
class Sentences:
    """Each of a chunk's sentences as the stems of its content words, in order."""

    stems: tuple[tuple[str, ...], ...]

    def shares(self, weights: dict, total: float, pairs: bool = False) -> list[float]:
        """Per sentence, the share of `weights` (of terms or of adjacent term pairs) it
        contains. Most sentences hold none of the question's words and cost one set test."""
        items = list(weights.items())
        # intersections from a set made once (a dict's keys view is copied at every `&`)
        needed = (
            frozenset(term for pair in weights for term in pair) if pairs else frozenset(weights)
        )
        out = []
        for sequence in self.stems:
            if needed.isdisjoint(sequence):
                out.append(0.0)
                continue
            share = 0.0
            present = set(pairwise(sequence)) if pairs else needed.intersection(sequence)
            for key, weight in items:
                if key in present:
                    share += weight / total
            out.append(share)
        return out


@lru_cache(maxsize=8192)
def sentence_index(text: str) -> Sentences:
    """A chunk's sentences as stems (a pure function of its text, cached: the same popular
    chunks are re-ranked question after question; ~3 KB an entry, the stems shared with
    `content_stems`'s cache)."""
    return Sentences(tuple(content_stems(sentence) for sentence in passage_sentences(text)))
