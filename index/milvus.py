"""Chunk vectors and BM25 on Milvus (`VECTOR_BACKEND=milvus`): the scaled backend.

The same reading interface as `index.vectors.Vectors` (dense search with an optional id pool,
lookups, cosines), plus `text_search`: BM25 computed by Milvus' built-in function on each
chunk's title and text, so the FTS5 table is not consulted, scoring as FTS5 does:
- the words are read as FTS5's porter tokenizer reads them (`analysed`: diacritics folded,
  Porter stems), tokenized here rather than by a Milvus analyzer: milvus-lite's only
  tokenizer ignores stemming filters, and a stemmer on our side scores the same on
  milvus-lite and on a server;
- FTS5 scores a chunk's title and text as one document, a title word counting
  `RetrievalConfig.title_weight` (0.5) of a text word. Milvus has no field weights, so the
  BM25 field holds the title once and the text `TEXT_COPIES` (2) times, with k1 doubled:
  tf/(tf + k1 x norm) is then unchanged, and the scores are FTS5's times a constant (lexical
  shares are ratios to the best).
`MILVUS_URI` is a file path for milvus-lite (embedded, one process) or `http://host:19530` for
a Milvus server that several workers share. The articles and chunk texts stay in the index's
store (its SQLite file, or PostgreSQL with DATABASE_URL); Milvus holds one row per chunk (id,
the analysed words, outlet, publication time, dense vector, and the BM25 sparse vector of the
words).

Milvus is live, not generational: a batch is upserted (and the chunks it replaces deleted)
just before the store's commit, so a crash between the two leaves vectors of chunks the store
does not have (ignored: search results are read through the store) or, for an updated article,
its old chunks without vectors until it is ingested again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from index.search.config import RetrievalConfig
from index.store.terms import analysed

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from index.vectors import ChunkFields

# (chunks_v2: the words stored `analysed`; "chunks" held title and text raw and is migrated)
COLLECTION = "chunks_v2"
OLD_COLLECTIONS = ("chunks",)
MAX_TEXT = 16_000  # characters of a chunk kept for BM25 (chunks are ~256 tokens)
# the stored text is already analysed: Milvus only splits it at the spaces
ANALYZER = {"tokenizer": "standard", "filter": ["lowercase"]}
TEXT_COPIES = round(1 / RetrievalConfig.title_weight)  # a title word weighs 1 / TEXT_COPIES
# FTS5's k1 and b, k1 scaled as the text's term counts are; milvus-lite reads only this
# nested form (its k1 would be 1.5), which servers accept too
BM25_PARAMS = {"params": {"bm25_k1": 1.2 * TEXT_COPIES, "bm25_b": 0.75}}


def _words(title: str, text: str) -> str:
    """What the BM25 field holds: the title once, the text `TEXT_COPIES` times."""
    return " ".join([analysed(title[:512]), *[analysed(text[:MAX_TEXT])] * TEXT_COPIES])


class MilvusChunks:
    """One Milvus collection of chunks: dense and BM25 search, lookups, upserts."""

    names: ClassVar[list[str]] = []  # no segment files in the data folder to keep or prune
    damaged: ClassVar[list[str]] = []

    def __init__(
        self,
        uri: str | Path,
        dim: int,
        collection: str = COLLECTION,
        client: MilvusClient | None = None,
    ) -> None:
        from pymilvus import MilvusClient

        self.uri = str(uri)
        self.dim = dim
        self.collection = collection
        self.client = client or MilvusClient(self.uri)
        if not self.client.has_collection(collection):
            self._create()
        self.client.load_collection(collection)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field(
            "words",
            DataType.VARCHAR,
            max_length=65_535,
            enable_analyzer=True,
            analyzer_params=ANALYZER,
        )
        schema.add_field("words_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25_words",
                function_type=FunctionType.BM25,
                input_field_names=["words"],
                output_field_names=["words_sparse"],
            )
        )
        schema.add_field("source", DataType.VARCHAR, max_length=512)
        schema.add_field("published", DataType.INT64)  # unix seconds; 0 when unknown
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type="FLAT", metric_type="IP")  # exact, as FAISS flat
        params.add_index(
            "words_sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params=BM25_PARAMS,
        )
        params.add_index("source", index_type="INVERTED")
        # milvus-lite lacks AllocTimestamp, which the client tries while waiting for the
        # indexes (then carries on): keep its server's traceback out of the log
        server_log = logging.getLogger("grpc._server")
        level = server_log.level
        server_log.setLevel(logging.CRITICAL)
        try:
            self.client.create_collection(self.collection, schema=schema, index_params=params)
        finally:
            server_log.setLevel(level)

    def close(self) -> None:
        self.client.close()

    def previous(self) -> MilvusChunks | None:
        """The collection an earlier version wrote here (its text not `analysed`), whose
        vectors this one is filled from; None when there is none."""
        for name in OLD_COLLECTIONS:
            if self.client.has_collection(name):
                return MilvusChunks(self.uri, self.dim, name, client=self.client)
        return None

    def drop(self) -> None:
        self.client.drop_collection(self.collection)

    def __len__(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    # -- writing ----------------------------------------------------------------------------

    def stored(
        self,
        directory: Path,
        generation: int,
        ids: Sequence[int],
        vectors: np.ndarray,
        removed: Iterable[int] = (),
        chunks: Sequence[ChunkFields] = (),
    ) -> MilvusChunks:
        """As `Vectors.stored`: the chunks are upserted now, before the caller commits (see
        the module's note); the collection is the same object in every generation."""
        self.write(
            ids,
            vectors,
            [c.title for c in chunks],
            [c.text for c in chunks],
            [c.source for c in chunks],
            [c.published for c in chunks],
            removed=removed,
        )
        return self

    def write(
        self,
        ids: Sequence[int],
        vectors: np.ndarray,
        titles: Sequence[str],
        texts: Sequence[str],
        sources: Sequence[str],
        published: Sequence[datetime | None],
        removed: Iterable[int] = (),
    ) -> None:
        """Upsert these chunks, then delete `removed` ones that were not rewritten."""
        rows = [
            {
                "id": int(chunk_id),
                "words": _words(title, text),
                "source": source[:512],
                "published": int(when.timestamp()) if when else 0,
                "dense": vector.astype(np.float32).tolist(),
            }
            for chunk_id, vector, title, text, source, when in zip(
                ids, vectors, titles, texts, sources, published, strict=True
            )
        ]
        for start in range(0, len(rows), 1000):
            self.client.upsert(self.collection, rows[start : start + 1000])
        gone = sorted(set(int(i) for i in removed) - set(int(i) for i in ids))
        if gone:
            self.client.delete(self.collection, ids=gone)
        # sealed, the rows are searched through a cached index: milvus-lite rebuilds the index
        # of unflushed rows at every search (1.4 s against 23 ms for BM25 over 7,842 chunks)
        self.client.flush(self.collection)

    # -- reading ----------------------------------------------------------------------------

    def search(
        self,
        query: np.ndarray,
        k: int,
        allowed: Sequence[int] | None = None,
        source: str | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine); `allowed` restricts the search to those chunk ids, or
        `source` (the same chunks, named) to one outlet's: a scalar filter, much faster on
        Milvus than a list of thousands of ids."""
        if k <= 0 or (allowed is not None and not allowed):
            return []
        hits = self.client.search(
            self.collection,
            data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            anns_field="dense",
            limit=min(k, 16_384),
            filter=_source_filter(source) if source else _id_filter(allowed),
            output_fields=["id"],  # (all fields by default: vectors, text)
            search_params={"metric_type": "IP"},
        )[0]
        return [(int(hit["id"]), float(hit["distance"])) for hit in hits]

    def text_search(
        self, terms: Sequence[str], title_weight: float, limit: int
    ) -> dict[int, float]:
        """chunk id -> BM25 of the best `limit` chunks matching any of `terms`, the title
        weighing `title_weight` (fixed when the chunks were written: `TEXT_COPIES`)."""
        query = " ".join(dict.fromkeys(analysed(" ".join(terms)).split()))
        if not query or limit <= 0:
            return {}
        hits = self.client.search(
            self.collection,
            data=[query],
            anns_field="words_sparse",
            limit=min(limit, 16_384),
            output_fields=["id"],
            search_params={"metric_type": "BM25"},
        )[0]
        # a server gives BM25 as is, milvus-lite negated (smaller is nearer)
        return {int(hit["id"]): abs(float(hit["distance"])) for hit in hits}

    def lookup(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, found): each chunk's vector, zeros where Milvus has none."""
        keys = [int(i) for i in ids]
        stored = np.zeros((len(keys), self.dim), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        if not keys:
            return stored, found
        rows = self.client.get(self.collection, ids=keys, output_fields=["dense"])
        where = {chunk_id: i for i, chunk_id in enumerate(keys)}
        for row in rows:
            i = where[int(row["id"])]
            stored[i] = np.asarray(row["dense"], dtype=np.float32)
            found[i] = True
        return stored, found

    def cosines(self, ids: Sequence[int], queries: np.ndarray) -> np.ndarray:
        stored, _ = self.lookup(ids)
        return stored @ np.asarray(queries, dtype=np.float32).T

    def vector(self, chunk_id: int) -> np.ndarray | None:
        stored, found = self.lookup([chunk_id])
        return stored[0] if found[0] else None


def _source_filter(source: str) -> str:
    return "source == " + json.dumps(source[:512])


def _id_filter(allowed: Sequence[int] | None) -> str:
    if allowed is None:
        return ""
    return f"id in [{','.join(str(int(i)) for i in allowed)}]"
