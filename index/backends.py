"""Where an index lives: its rows in a SQLite file (the embedded default) or on PostgreSQL;
its chunk vectors in FAISS segment files beside the SQLite file or in a Milvus collection
(`index.milvus`, the scaled backend). Opening them, and moving an index built on the first
to the second without encoding anything again."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from db.postgres import without_password
from db.sqlite import ReadOnlyStore, SchemaTooNew, StoreUnavailable
from index.ingest import NewsIndexError
from index.milvus import MilvusChunks
from index.stats import DAMAGED_VECTORS
from index.store import Store
from index.store.shared import open_shared
from index.vectors import Vectors

log = logging.getLogger(__name__)


def open_store(
    db_path: Path, create: bool, database_url: str | None, milvus_uri: str | None
) -> Store:
    """The index's rows: the SQLite file `db_path` (made when `create`), or the tables at
    `database_url` (filled from `db_path` once if it exists), with a clear error for what
    cannot be used."""
    if database_url and not milvus_uri:
        raise NewsIndexError(
            "the index's articles go to PostgreSQL (DATABASE_URL) only with "
            "VECTOR_BACKEND=milvus: FAISS files and FTS5 stay on one machine"
        )
    if not database_url and not db_path.exists() and not create:
        raise NewsIndexError(
            f"no index in {db_path.parent} yet: run `newsbot ingest PATH` first "
            "(or set NEWSBOT_DATA_DIR to the folder that holds it)"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)  # (and the question model's export)
    try:
        store = open_shared(database_url, db_path) if database_url else Store(db_path)
        store.get_meta("model")  # a damaged file shows on first use
        return store
    except (SchemaTooNew, ReadOnlyStore) as exc:
        raise NewsIndexError(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        reason = exc.reason if isinstance(exc, StoreUnavailable) else exc
        raise NewsIndexError(
            f"the index database {db_path} is damaged ({reason}); move the folder away and "
            "run `newsbot ingest` again"
        ) from exc
    except Exception as exc:  # psycopg's: no server there, a refused login, a timeout
        if not database_url:
            raise
        where = without_password(database_url)
        raise NewsIndexError(f"the index database at {where} cannot be used: {exc}") from exc


def faiss_generation(
    store: Store, data_dir: Path, generation: int | None = None, dim: int | None = None
) -> Vectors:
    """The FAISS segments of a generation (the committed one by default); a damaged file
    costs its vectors and is reported."""
    if generation is None:
        generation = int(store.get_meta("generation") or 0)
    if dim is None:
        dim = int(store.get_meta("dim") or 0)
    if generation == 0:
        return Vectors(dim or 1)
    listed = store.get_meta("segments")
    names = json.loads(listed) if listed else [Vectors.legacy_name(generation)]
    live = np.asarray(store.chunk_ids(), dtype=np.int64)
    try:
        vectors = Vectors.load(data_dir, names, dim, live)
    except ValueError as exc:
        raise NewsIndexError(
            f"the vector files in {data_dir} do not fit the index ({exc}); move the folder "
            "away and run `newsbot ingest` again"
        ) from exc
    if vectors.damaged:
        log.warning(DAMAGED_VECTORS, ", ".join(vectors.damaged), data_dir)
    return vectors


def copy_to_milvus(
    store: Store, vectors: Vectors | MilvusChunks, milvus: MilvusChunks, step: int = 2048
) -> int:
    """Fill an empty Milvus collection from the FAISS files (VECTOR_BACKEND switched to milvus
    on an index built before) or an older collection: the same vectors, no re-encoding.
    Returns the chunks copied."""
    ids = store.chunk_ids()
    copied = 0
    for start in range(0, len(ids), step):
        part = ids[start : start + step]
        stored, found = vectors.lookup(part)
        chunks = store.chunks(part)
        meta = store.chunk_meta(part)
        titles = {a.id: a.title for a in store.articles({m[0] for m in meta.values()}).values()}
        keep = [i for i, chunk_id in enumerate(part) if found[i] and chunk_id in chunks]
        milvus.write(
            [part[i] for i in keep],
            stored[keep],
            [titles.get(meta[part[i]][0], "") for i in keep],
            [chunks[part[i]].text for i in keep],
            [meta[part[i]][1] or "" for i in keep],
            [meta[part[i]][2] for i in keep],
        )
        copied += len(keep)
    return copied


def open_milvus(uri: str, dim: int, store: Store, faiss: Callable[[], Vectors]) -> MilvusChunks:
    """The Milvus collection at `uri`; an index built on FAISS before, or into the collection
    an earlier version wrote, has its vectors copied over once (an empty collection beside
    chunks in SQLite). The earlier collection is dropped once copied."""
    milvus = MilvusChunks(uri, dim)
    if len(milvus) or not store.chunk_count():
        return milvus
    # workers starting together on PostgreSQL: one copies, holding the writer lock; the
    # others wait for it and find the collection filled
    with store.write() if store.postgres else nullcontext():
        if not len(milvus):
            old = milvus.previous()
            count = copy_to_milvus(store, old if old is not None else faiss(), milvus)
            where = "the FAISS files" if old is None else f"the {old.collection!r} collection"
            log.info("copied %d chunk vectors from %s to Milvus", count, where)
            if old is not None:
                old.drop()
    return milvus
