"""Vectors as segments: an ingest appends a file and rewrites nothing; search stays exact."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import faiss
import numpy as np
import pytest

from corpus.models import Article
from index import NewsIndex
from index import vectors as vectors_module
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder
from index.vectors import Vectors

DIM = 32


def unit(rows: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def exact_top(ids: np.ndarray, matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(matrix @ query), kind="stable")[:k]
    return [int(ids[i]) for i in order]


def test_each_batch_adds_one_file_and_leaves_the_others_untouched(tmp_path: Path) -> None:
    vectors = Vectors(DIM)
    stamps: dict[str, tuple[int, int]] = {}
    sizes = [800, 400, 200, 100, 50]  # each smaller than the one before: nothing to merge
    for batch, size in enumerate(sizes):
        ids = np.arange(batch * 1000, batch * 1000 + size)
        vectors = vectors.appended(tmp_path, batch + 1, ids, unit(size, batch))
        for name, stamp in stamps.items():
            stat = (tmp_path / name).stat()
            assert (stat.st_ino, stat.st_mtime_ns) == stamp, f"{name} was rewritten"
        for name in vectors.names:
            stat = (tmp_path / name).stat()
            stamps.setdefault(name, (stat.st_ino, stat.st_mtime_ns))
    assert len(vectors.names) == 5 and len(vectors) == sum(sizes)


def test_merged_segments_search_like_one_exact_index(tmp_path: Path) -> None:
    """Equal batches merge as a binary counter: few segments, and the same top 10 as an exact
    search over every live vector."""
    vectors = Vectors(DIM)
    all_ids, all_rows = [], []
    for batch in range(37):
        ids = np.arange(batch * 50, batch * 50 + 50)
        rows = unit(50, batch)
        vectors = vectors.appended(tmp_path, batch + 1, ids, rows)
        all_ids.append(ids)
        all_rows.append(rows)
    ids, matrix = np.concatenate(all_ids), np.concatenate(all_rows)
    assert len(vectors.segments) <= math.log2(37) + 1
    for seed in range(20):
        query = unit(1, 1000 + seed)[0]
        assert [i for i, _ in vectors.search(query, 10)] == exact_top(ids, matrix, query, 10)


def test_a_merge_reads_the_stored_vectors_a_batch_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Merging two segments does not copy all their vectors out first (at a million chunks
    that copy, twice over, took the build to 4.4 GB), and the merged segment answers as the
    two did."""
    monkeypatch.setattr(vectors_module, "ADD_BATCH", 1_000)
    first, second = unit(20_000, 1), unit(20_000, 2)
    vectors = Vectors(DIM).appended(tmp_path, 1, np.arange(20_000), first)
    tracemalloc.start()
    try:
        vectors = vectors.appended(tmp_path, 2, np.arange(20_000, 40_000), second)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(vectors.segments) == 1, "equal segments merge"
    merged_bytes = 40_000 * DIM * 4
    assert peak < merged_bytes / 2, f"the merge held {peak / merged_bytes:.1f}x its vectors"
    matrix = np.concatenate([first, second])
    for seed in range(10):
        query = unit(1, 500 + seed)[0]
        found = [i for i, _ in vectors.search(query, 10)]
        assert found == exact_top(np.arange(40_000), matrix, query, 10)
    assert np.allclose(vectors.vector(25_000), second[5_000])


def test_removed_and_reused_ids_are_masked_until_reload(tmp_path: Path) -> None:
    """SQLite may give a deleted chunk's id to a new chunk: the new vector wins, before and
    after a reload, and a removed chunk is never found."""
    rows = unit(20, 1)
    vectors = Vectors(DIM).appended(tmp_path, 1, np.arange(20), rows)
    replacement = unit(1, 2)
    vectors = vectors.appended(tmp_path, 2, np.array([19]), replacement, removed=[3, 19])
    assert len(vectors) == 19
    assert 3 not in {i for i, _ in vectors.search(rows[3], 20)}
    assert vectors.search(replacement[0], 1)[0][0] == 19
    assert np.allclose(vectors.vector(19), replacement[0])
    assert vectors.vector(3) is None

    live = np.array([i for i in range(20) if i != 3])
    reloaded = Vectors.load(tmp_path, vectors.names, DIM, live)
    assert len(reloaded) == 19 and reloaded.vector(3) is None
    assert np.allclose(reloaded.vector(19), replacement[0])
    assert np.allclose(reloaded.cosines([5, 3], rows[5][None, :])[:, 0], [1.0, 0.0], atol=1e-5)


def test_large_segments_are_approximate_with_high_recall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size threshold a segment is IVF (float16): recall@10 against exact >= 0.95
    on clustered vectors, as news vectors are."""
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 5_000)
    rng = np.random.default_rng(7)
    centres = unit(60, 8)
    rows = centres[rng.integers(0, 60, 8_000)] + 0.08 * rng.standard_normal((8_000, DIM))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(8_000) * 3
    vectors = Vectors(DIM).appended(tmp_path, 1, ids, rows)
    [segment] = vectors.segments
    assert "IVF" in type(faiss.downcast_index(segment.index.index)).__name__
    recalls = []
    for seed in range(50):
        query = rows[seed * 97] + 0.05 * rng.standard_normal(DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        found = {i for i, _ in vectors.search(query, 10)}
        recalls.append(len(found & set(exact_top(ids, rows, query, 10))) / 10)
    assert np.mean(recalls) >= 0.95
    reloaded = Vectors.load(tmp_path, vectors.names, DIM, ids)  # as another process opens it
    assert np.allclose(reloaded.vector(ids[5]), rows[5], atol=0.002)  # lookups on IVF too
    assert reloaded.search(rows[5], 1)[0][0] == ids[5]


def article(n: int, text: str) -> Article:
    body = " ".join(f"{text} sentence {k} about harbour number {n}." for k in range(12))
    return Article(title=f"Harbour {n}", body=body, source="Coast Herald", url=f"https://h/{n}")


def test_an_index_ingest_appends_and_a_legacy_index_still_opens(
    data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder
) -> None:
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([article(1, "Ferries resumed")])
    first = sorted(p.name for p in data_dir.glob("vectors-*.faiss"))
    stamp = (data_dir / first[0]).stat().st_mtime_ns
    index.ingest([article(2, "Cranes arrived")])
    assert (data_dir / first[0]).stat().st_mtime_ns == stamp
    assert len(index.vectors()) == index.stats().chunks
    index.close()

    # an index written before segments names no segment list: its one file is the generation
    one = NewsIndex(data_dir.parent / "legacy", create=True, embedder=embedder, questions=questions)
    one.ingest([article(3, "Gulls nested")])
    one.store.conn.execute("DELETE FROM meta WHERE key='segments'")
    one.store.conn.commit()
    one.close()
    reopened = NewsIndex(data_dir.parent / "legacy", embedder=embedder, questions=questions)
    assert len(reopened.vectors()) == reopened.stats().chunks > 0
    assert reopened.answer("where did the gulls nest").citations[0].title == "Harbour 3"
    reopened.close()


def test_a_damaged_vector_file_leaves_the_rest_answering(
    data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder
) -> None:
    """A truncated segment (a full disk, a bad copy) costs its articles their vectors, not the
    index: they are still found by their words, the others as before, and stats says which
    file to rebuild."""
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([article(n, "Ferries resumed") for n in range(1, 9)])
    index.ingest([article(9, "Lighthouse keepers struck")])  # a smaller batch: its own file
    names = index.vectors().names
    assert len(names) == 2
    index.close()
    damaged = data_dir / names[-1]
    damaged.write_bytes(damaged.read_bytes()[:200])
    reopened = NewsIndex(data_dir, embedder=embedder, questions=questions)
    assert reopened.stats().damaged_vector_files == (names[-1],)
    assert reopened.answer("did the lighthouse keepers strike").citations[0].title == "Harbour 9"
    assert reopened.answer("when did ferries resume in harbour 3").citations
    reopened.close()
