"""FAISS vectors keyed by chunk id, saved as numbered generations next to the database.

A new generation is written to a temporary file, fsynced and renamed into place before the
database commit that names it. A crash before that commit leaves the old generation current;
the previous file is kept one more round so a reader that just looked it up can still open it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import faiss
import numpy as np

_GENERATION_FILE = re.compile(r"^vectors-(\d+)\.faiss$")

# One question, one thread: splitting a search of a few thousand vectors across OpenMP threads
# gains nothing, and under load the threads wait on each other (p99 of a 7,842-vector search
# with the other core busy: 24 ms on two threads, 8.5 ms on one; p50 0.2 ms either way).
faiss.omp_set_num_threads(1)


class Vectors:
    """An exact inner-product index (vectors are normalised, so scores are cosines)."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def copy(self) -> Vectors:
        return Vectors(self.dim, faiss.clone_index(self.index))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(vectors.astype(np.float32), ids.astype(np.int64))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(
        self, query: np.ndarray, k: int, allowed: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine); `allowed` restricts the search to those chunk ids."""
        if len(self) == 0 or k <= 0:
            return []
        params = None
        if allowed is not None:
            if not allowed:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            k = min(k, len(allowed))
        k = min(k, len(self))
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def cosines(self, ids: list[int], queries: np.ndarray) -> np.ndarray:
        """Scores of the given chunks (rows) against each query vector (columns).

        A chunk without a vector (committed by a concurrent ingest whose vectors are not
        swapped in yet) scores 0.
        """
        keys = np.asarray(ids, dtype=np.int64)
        try:
            stored = self.index.reconstruct_batch(keys) if len(keys) else None
        except RuntimeError:  # some key is missing: look them up one by one
            stored = None
        if stored is None:
            stored = np.zeros((len(ids), self.dim), dtype=np.float32)
            for row, chunk_id in enumerate(ids):
                try:
                    stored[row] = self.index.reconstruct(int(chunk_id))
                except RuntimeError:
                    continue
        return stored @ np.asarray(queries, dtype=np.float32).T

    # -- persistence ------------------------------------------------------------------------

    @staticmethod
    def path_for(directory: Path, generation: int) -> Path:
        return directory / f"vectors-{generation:06d}.faiss"

    def save(self, directory: Path, generation: int) -> Path:
        final = self.path_for(directory, generation)
        tmp = final.with_suffix(".faiss.tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        return final

    @classmethod
    def load(cls, directory: Path, generation: int, dim: int) -> Vectors:
        path = cls.path_for(directory, generation)
        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"{path.name} holds {index.d}-dimensional vectors, expected {dim}")
        return cls(dim, index)

    @staticmethod
    def prune(directory: Path, keep: set[int]) -> None:
        """Delete generations other than `keep` (and stale temporary files)."""
        for path in directory.iterdir():
            match = _GENERATION_FILE.match(path.name)
            if (match and int(match.group(1)) not in keep) or path.name.endswith(".faiss.tmp"):
                path.unlink(missing_ok=True)
