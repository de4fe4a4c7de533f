"""Writing to an index: new and changed articles chunked, embedded and committed in batches,
each batch one transaction with the FAISS generation that matches it; removing an article."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from corpus.models import Article
from index.chunking import Chunk, chunk_article, sentence_spans
from index.milvus import MilvusChunks
from index.store import Store, body_hash
from index.vectors import ChunkFields, Vectors

if TYPE_CHECKING:
    from index.service import NewsIndex

ProgressCallback = Callable[[int], None]
Batch = list[tuple[Article, bool, list[Chunk]]]  # (article, is an update, its chunks)
MODEL_BATCH = 64  # passages per forward pass


class NewsIndexError(Exception):
    """The index cannot be used as asked; the message says what to do."""


def _check_base(index: NewsIndex, conn: sqlite3.Connection, previous: int) -> None:
    """Inside the write transaction (which holds SQLite's write lock): the generation this
    batch builds on is still the committed one. Another process that committed meanwhile
    would otherwise see its vectors file overwritten and its rows collide with these."""
    committed = int(Store.get_meta_in(conn, "generation") or 0)
    if committed != previous:
        raise NewsIndexError(
            f"another newsbot process wrote to {index.data_dir} during this ingest; this batch "
            "was not written. Run the ingest again (it skips what is already indexed)."
        )


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    new_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate, {self.failed} failed; "
            f"{self.chunks} chunks in {self.seconds:.1f} s"
        )


def ingest(
    index: NewsIndex,
    articles: Iterable[Article],
    progress: ProgressCallback | None,
    batch_chunks: int,
    on_chunked: Callable[[int], None] | None,
    now: datetime | None,
) -> IngestReport:
    """`NewsIndex.ingest` (the caller holds the index's ingest lock)."""
    started = time.perf_counter()
    report = IngestReport()
    articles = list({a.id: a for a in articles}.values())
    store = index.store
    known = store.hashes([a.id for a in articles])
    todo: list[tuple[Article, bool]] = []
    seen_bodies: set[str] = set()
    for article in articles:
        if known.get(article.id) == article.content_hash:
            report.unchanged += 1
            continue
        digest = body_hash(article)
        twin = store.article_with_body_hash(digest)
        if digest in seen_bodies or (twin is not None and twin != article.id):
            report.duplicates += 1
            continue
        seen_bodies.add(digest)
        todo.append((article, article.id in known))
    if not todo:
        report.seconds = time.perf_counter() - started
        return report
    embedder = index.ingest_embedder
    batch: Batch = []
    pending = 0
    done = 0
    for article, is_update in todo:
        chunks = chunk_article(article, embedder.count_tokens, index.max_chunk_tokens)
        batch.append((article, is_update, chunks))
        pending += len(chunks)
        if on_chunked:
            on_chunked(len(chunks))
        if pending >= batch_chunks:
            done = _write_batch(index, batch, report, progress, done, now)
            batch, pending = [], 0
    if batch:
        _write_batch(index, batch, report, progress, done, now)
    report.seconds = time.perf_counter() - started
    return report


def _write_batch(
    index: NewsIndex,
    batch: Batch,
    report: IngestReport,
    progress: ProgressCallback | None,
    done: int,
    now: datetime | None,
) -> int:
    flat = [c for _, _, chunks in batch for c in chunks]
    embedder = index.ingest_embedder
    # Encode longest first across the whole batch, by model tokens (counted while chunking),
    # one model batch per call: `SentenceTransformer.encode` groups by characters, which pads
    # the batches of this corpus ~8% more (tokens per character vary with names and numbers).
    order = sorted(
        range(len(flat)), key=lambda i: (flat[i].n_tokens, len(flat[i].embed_text)), reverse=True
    )
    vectors = np.zeros((len(flat), embedder.dim), np.float32)
    sentence_vectors: list[np.ndarray] = [vectors[:0]] * len(flat)
    step = MODEL_BATCH
    for start in range(0, len(order), step):
        rows = order[start : start + step]
        passages, sentences = embedder.encode_passages(
            [flat[i].embed_text for i in rows], [sentence_spans(flat[i]) for i in rows], step
        )
        vectors[rows] = passages
        for i, matrix in zip(rows, sentences, strict=True):
            sentence_vectors[i] = matrix
        done += len(rows)
        if progress:
            progress(done)

    now = now or datetime.now(UTC)
    previous, current = index.published()
    base: Vectors | MilvusChunks
    if index.milvus_uri:
        base = index.milvus(embedder.dim)
    else:
        base = current if previous and isinstance(current, Vectors) else Vectors(embedder.dim)
    generation = previous + 1
    with index.store.write() as conn:
        _check_base(index, conn, previous)
        updated_ids = [a.id for a, is_update, _ in batch if is_update]
        old_chunks = Store.chunk_ids_of(conn, updated_ids)
        Store.delete_articles(conn, updated_ids)
        new_ids: list[int] = []
        for article, _, chunks in batch:
            new_ids.extend(Store.insert_article(conn, article, [c.text for c in chunks], now))
        Store.insert_sentence_vectors(conn, zip(new_ids, sentence_vectors, strict=True))
        # Milvus upserts now, before the commit (see milvus.py); FAISS writes only this
        # batch's vectors, a new segment file, and masks the old ones
        fields = [
            ChunkFields(a.title, c.text, a.source or "", a.published_at)
            for a, _, chunks in batch
            for c in chunks
        ]
        new_vectors = base.stored(index.data_dir, generation, new_ids, vectors, old_chunks, fields)
        Store.set_meta(conn, "generation", str(generation))
        Store.set_meta(conn, "segments", json.dumps(new_vectors.names))
        Store.set_meta(conn, "model", index.model_name)
        Store.set_meta(conn, "dim", str(embedder.dim))
    index.publish(generation, new_vectors, current)
    for article, is_update, chunks in batch:
        if is_update:
            report.updated += 1
        else:
            report.new += 1
            report.new_ids.append(article.id)
        report.chunks += len(chunks)
    return done


def remove(index: NewsIndex, article_id: str) -> bool:
    """`NewsIndex.remove` (the caller holds the index's ingest lock)."""
    if not index.store.hashes([article_id]):
        return False
    previous, current = index.published()
    generation = previous + 1
    with index.store.write() as conn:
        _check_base(index, conn, previous)
        old_chunks = Store.chunk_ids_of(conn, [article_id])
        Store.delete_articles(conn, [article_id])
        none = np.zeros(0, np.int64), np.zeros((0, current.dim), np.float32)  # no new vectors
        new_vectors = current.stored(index.data_dir, generation, *none, old_chunks)
        Store.set_meta(conn, "generation", str(generation))
        Store.set_meta(conn, "segments", json.dumps(new_vectors.names))
    index.publish(generation, new_vectors, current)
    return True
