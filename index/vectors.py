"""FAISS vectors keyed by chunk id, stored as segments: an ingest appends, it never rewrites.

A generation is a list of segment files (`meta.segments`), each an immutable FAISS index over
the chunks one ingest batch added. A batch writes one new file (fsynced, renamed into place)
before the database commit that names it, so a crash leaves the previous list current. Removed
or replaced chunks are masked, not rewritten: a chunk id is live in the newest segment that
holds it, and only while the chunks table has it (SQLite may reuse the id of a deleted row).

Segments are merged as in an LSM tree (the two newest while the older is no bigger), so a
search touches at most log2(n / batch) segments and a vector is rewritten about that many times
over the index's life, not once per batch as when every batch rewrote one file. A segment's
index type follows its size: exact (flat) below `APPROXIMATE_FROM` vectors, IVF storing float16
above (recall@10 against exact search measured by benchmarks/scale.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import faiss
import numpy as np

# One question, one thread: splitting a search of a few thousand vectors across OpenMP threads
# gains nothing, and under load the threads wait on each other (p99 of a 7,842-vector search
# with the other core busy: 24 ms on two threads, 8.5 ms on one; p50 0.2 ms either way).
faiss.omp_set_num_threads(1)

_SEGMENT_FILE = re.compile(r"^vectors-\d+(m\d+)?\.faiss$")
APPROXIMATE_FROM = 50_000  # vectors; smaller segments are searched exactly
NPROBE_SHARE = 0.04  # lists probed by an IVF search, as a share of its lists
ADD_BATCH = 32_768  # vectors read and added at a time when building a segment (48 MB)

Rows = Callable[[np.ndarray], np.ndarray]  # positions -> their vectors (float32)


class ChunkFields(NamedTuple):
    """What a backend that also searches text and filters by outlet (Milvus) stores of a chunk
    beside its vector."""

    title: str
    text: str
    source: str
    published: datetime | None


@dataclass
class Segment:
    """One immutable FAISS index (an IDMap2 over flat or IVF) and the ids it holds, sorted."""

    name: str
    index: faiss.Index
    ids: np.ndarray = field(init=False)  # sorted
    removed: set[int] = field(default_factory=set)  # masked ids (removed or newer elsewhere)

    def __post_init__(self) -> None:
        self.ids = np.sort(faiss.vector_to_array(self.index.id_map).astype(np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def live(self) -> int:
        return len(self.ids) - len(self.removed)

    def holds(self, keys: np.ndarray) -> np.ndarray:
        """Per key, whether this segment holds a live vector for it."""
        at = np.searchsorted(self.ids, keys).clip(max=max(len(self.ids) - 1, 0))
        found = (self.ids[at] == keys) if len(self.ids) else np.zeros(len(keys), bool)
        if self.removed:
            found &= ~np.isin(keys, np.fromiter(self.removed, np.int64))
        return found


def build_index(dim: int, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
    """An index over these vectors, its type chosen by their number."""
    return _build(dim, ids, lambda at: vectors[at])


def _build(dim: int, ids: np.ndarray, rows: Rows) -> faiss.Index:
    """An index over the vectors `rows` gives for positions in `ids`, read `ADD_BATCH` at a
    time: a merge never holds all of its vectors as float32 beside the two segments it reads
    and the one it writes (the million-chunk build peaked at 4.4 GB when it did)."""
    n = len(ids)
    if n < APPROXIMATE_FROM:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        _add(index, ids, rows)
        return index
    lists = int(4 * math.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    # float16: half the memory of float32 and, unlike 8 bits, no loss that merges (which
    # rebuild from the stored vectors) would compound: recall@10 0.995 vs 0.984 for 8-bit
    # on 300,000 generated news-like vectors
    inner = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    sample = rows(np.random.default_rng(0).choice(n, min(n, lists * 64), replace=False))
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # training and adding: all cores
    try:
        inner.train(sample)
        del sample
        inner.nprobe = max(8, int(lists * NPROBE_SHARE))
        inner.make_direct_map()
        _reserve(inner, rows, len(ids))
        index = faiss.IndexIDMap2(inner)
        _add(index, ids, rows)
    finally:
        faiss.omp_set_num_threads(1)
    return index


def _reserve(inner: faiss.IndexIVF, rows: Rows, n: int) -> None:
    """Give each inverted list the room it will need before adding. Filled one vector at a
    time, a list's buffer doubles as it grows, and a fresh segment held up to twice its size:
    the million-chunk build peaked at 2.4 GB in its largest merge. (Each list is sized, then
    emptied: its capacity stays.)"""
    counts = np.zeros(inner.nlist, dtype=np.int64)
    for _, vectors in _batches(rows, n):
        lists = inner.quantizer.assign(vectors, 1)[:, 0]
        counts += np.bincount(lists[lists >= 0], minlength=inner.nlist)
    invlists = inner.invlists
    for list_no in np.flatnonzero(counts).tolist():
        invlists.resize(list_no, int(counts[list_no]))
        invlists.resize(list_no, 0)


def _add(index: faiss.Index, ids: np.ndarray, rows: Rows) -> None:
    for at, vectors in _batches(rows, len(ids)):
        index.add_with_ids(vectors, ids[at])


def _batches(rows: Rows, n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(positions, their vectors as contiguous float32), `ADD_BATCH` positions at a time."""
    for start in range(0, n, ADD_BATCH):
        at = np.arange(start, min(start + ADD_BATCH, n))
        yield at, np.ascontiguousarray(rows(at), dtype=np.float32)


def _stored_rows(dim: int, parts: Sequence[tuple[Segment, np.ndarray]]) -> Rows:
    """Rows of the segments' vectors for `keys`, one after the other, as `_build` reads them
    (reconstructed from the segments a batch at a time)."""
    ends = np.cumsum([len(keys) for _, keys in parts])

    def rows(at: np.ndarray) -> np.ndarray:
        out = np.empty((len(at), dim), dtype=np.float32)
        for (segment, keys), end in zip(parts, ends, strict=True):
            start = end - len(keys)
            here = (at >= start) & (at < end)
            if here.any():
                out[here] = segment.index.reconstruct_batch(keys[at[here] - start])
        return out

    return rows


class Vectors:
    """The segments of one generation: inner-product search (vectors are normalised, so scores
    are cosines) and lookups by chunk id. Never changed in place: `appended` returns a new
    object, so searches running on this one are undisturbed."""

    def __init__(self, dim: int, segments: Sequence[Segment] = ()) -> None:
        self.dim = dim
        self.segments = list(segments)
        self.damaged: list[str] = []  # segment files that could not be read (`load`)

    def __len__(self) -> int:
        return sum(segment.live for segment in self.segments)

    @property
    def names(self) -> list[str]:
        return [segment.name for segment in self.segments]

    # -- writing ----------------------------------------------------------------------------

    def stored(
        self,
        directory: Path,
        generation: int,
        ids: Sequence[int],
        vectors: np.ndarray,
        removed: Iterable[int] = (),
        chunks: Sequence[ChunkFields] = (),
    ) -> Vectors:
        """What an ingest or a removal calls on either backend (`MilvusChunks.stored` too):
        the next generation with these chunks. FAISS needs only their vectors."""
        return self.appended(
            directory, generation, np.asarray(ids, dtype=np.int64), vectors, removed
        )

    def appended(
        self,
        directory: Path,
        generation: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        removed: Iterable[int] = (),
    ) -> Vectors:
        """A new generation: these vectors in a new segment file, `removed` chunk ids masked.
        Files are written and fsynced here; the caller commits their names."""
        release_freed_memory()  # what the generations before this one held
        ids = np.asarray(ids, dtype=np.int64)
        # an id SQLite reused for a new chunk: the new vector wins over any older one
        masked = np.union1d(np.fromiter((int(i) for i in removed), np.int64), ids)
        segments = [self._masked(segment, masked) for segment in self.segments]
        if len(ids):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            name = f"vectors-{generation:06d}.faiss"
            segments.append(_save(directory, name, build_index(self.dim, ids, vectors)))
        return Vectors(self.dim, _merge_tail(directory, generation, segments, self.dim))

    @staticmethod
    def _masked(segment: Segment, ids: np.ndarray) -> Segment:
        """`segment` with those of `ids` it holds masked too: a copy, as the segment may be
        in use by searches on the generation being replaced."""
        held = ids[segment.holds(ids)] if len(ids) else ids
        if not len(held):
            return segment
        copy = Segment.__new__(Segment)
        copy.name, copy.index, copy.ids = segment.name, segment.index, segment.ids
        copy.removed = segment.removed | set(held.tolist())
        return copy

    # -- reading ----------------------------------------------------------------------------

    def search(
        self,
        query: np.ndarray,
        k: int,
        allowed: Sequence[int] | None = None,
        source: str | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine); `allowed` restricts the search to those chunk ids (which
        are `source`'s chunks when it is given: FAISS filters by ids only)."""
        if k <= 0 or not self.segments:
            return []
        params = None
        if allowed is not None:
            if not allowed:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        found: list[tuple[int, float]] = []
        for segment in self.segments:
            depth = min(k + len(segment.removed), len(segment))
            if depth <= 0:
                continue
            scores, ids = segment.index.search(query, depth, params=params)
            keep = ids[0] >= 0
            if segment.removed:
                keep &= ~np.isin(ids[0], np.fromiter(segment.removed, dtype=np.int64))
            found.extend(zip(ids[0][keep].tolist(), scores[0][keep].tolist(), strict=True))
        found.sort(key=lambda item: -item[1])
        return found[:k]

    def lookup(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, found): each chunk's live vector, zeros where it has none (a chunk a
        concurrent ingest committed but has not swapped in yet)."""
        keys = np.asarray(ids, dtype=np.int64)
        stored = np.zeros((len(keys), self.dim), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        for segment in reversed(self.segments):  # newest first
            if found.all():
                break
            here = ~found & segment.holds(keys)
            if here.any():
                stored[here] = segment.index.reconstruct_batch(keys[here])
                found |= here
        return stored, found

    def cosines(self, ids: Sequence[int], queries: np.ndarray) -> np.ndarray:
        """Scores of the given chunks (rows) against each query vector (columns); a chunk
        without a vector scores 0."""
        stored, _ = self.lookup(ids)
        return stored @ np.asarray(queries, dtype=np.float32).T

    def vector(self, chunk_id: int) -> np.ndarray | None:
        stored, found = self.lookup([chunk_id])
        return stored[0] if found[0] else None

    # -- persistence ------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path, names: Sequence[str], dim: int, live: np.ndarray) -> Vectors:
        """The segments `names`, oldest first; `live` are the chunk ids the database has (an id
        is masked where a newer segment holds it, or where the database does not)."""
        segments: list[Segment] = []
        damaged: list[str] = []
        newer = np.zeros(0, dtype=np.int64)
        live = np.asarray(live, dtype=np.int64)
        for name in reversed(names):
            try:
                index = faiss.read_index(str(directory / name))
            except RuntimeError:  # missing or truncated: search what is intact
                damaged.append(name)
                continue
            if index.d != dim:
                raise ValueError(f"{name} holds {index.d}-dimensional vectors, expected {dim}")
            segment = Segment(name, index)
            masked = np.isin(segment.ids, newer) | ~np.isin(segment.ids, live)
            segment.removed = set(segment.ids[masked].tolist())
            newer = np.union1d(newer, segment.ids)
            segments.append(segment)
        vectors = cls(dim, segments[::-1])
        vectors.damaged = damaged[::-1]
        return vectors

    @staticmethod
    def legacy_name(generation: int) -> str:
        """The one file of a generation written before segments (read as its only segment)."""
        return f"vectors-{generation:06d}.faiss"

    @staticmethod
    def prune(directory: Path, keep: set[str]) -> None:
        """Delete segment files other than `keep` (and stale temporary files)."""
        for path in directory.iterdir():
            stale = _SEGMENT_FILE.match(path.name) and path.name not in keep
            if stale or path.name.endswith(".faiss.tmp"):
                path.unlink(missing_ok=True)


def _libc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to call
        return None


_MALLOC_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """Give the memory of dropped segments back to the system. glibc keeps freed heap pages
    for reuse, and FAISS's inverted lists leave them scattered: over a million-chunk build the
    process grew by each merge's inputs although they were freed (peak 2.8 GB, see
    benchmarks/scale.py)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _save(directory: Path, name: str, index: faiss.Index) -> Segment:
    final = directory / name
    tmp = final.with_suffix(".faiss.tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    return Segment(name, index)


def _merge_tail(
    directory: Path, generation: int, segments: list[Segment], dim: int
) -> list[Segment]:
    """Merge the two newest segments while the older one is no bigger than the newer (a binary
    counter: at most log2(n / batch) segments, each vector rewritten that many times over the
    index's life). Segments with nothing live are dropped; masked vectors are not copied."""
    segments = [s for s in segments if s.live]
    merges = 0
    while len(segments) >= 2 and segments[-2].live <= segments[-1].live:
        parts = [(s, s.ids[s.holds(s.ids)]) for s in segments[-2:]]
        merges += 1
        name = f"vectors-{generation:06d}m{merges}.faiss"
        keys = np.concatenate([held for _, held in parts])
        merged = _build(dim, keys, _stored_rows(dim, parts))
        segments = [*segments[:-2], _save(directory, name, merged)]
        release_freed_memory()  # the training sample; a segment this loop merged again
    return segments
