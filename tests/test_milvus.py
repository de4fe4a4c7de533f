"""The scaled backend beside the embedded one: an index built on FAISS moves to Milvus without
encoding anything again, and answers as before (tests/test_index.py runs its index tests on
both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_index import filler_articles

from corpus.models import Article
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder
from services.paths import milvus_uri
from services.settings import Settings

QUESTIONS = [
    "Where did Turkey and Israel hold their talks?",
    "Turkey Israel talks Azerbaijan",
    "what did the coach say after match 7",
]


def test_an_index_built_on_faiss_moves_to_milvus_and_answers_the_same(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    pytest.importorskip("pymilvus", reason="Milvus needs the scale extra")
    data_dir = tmp_path / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([seed_article, *filler_articles(6)])
    before = [index.answer(q) for q in QUESTIONS]
    chunks = index.stats().chunks
    index.close()

    settings = Settings(NEWSBOT_DATA_DIR=data_dir, VECTOR_BACKEND="milvus")
    uri = milvus_uri(settings)
    assert uri == str(data_dir / "milvus.db")
    moved = NewsIndex(data_dir, embedder=embedder, questions=questions, milvus_uri=uri)
    assert len(moved.vectors()) == chunks  # copied from the FAISS files, nothing encoded
    after = [moved.answer(q) for q in QUESTIONS]
    for old, new in zip(before, after, strict=True):
        assert new.found == old.found
        assert [c.article_id for c in new.citations][:1] == [c.article_id for c in old.citations][
            :1
        ]
    assert after[1].found and after[1].citations[0].article_id == seed_article.id  # keywords
    moved.ingest(filler_articles(2, prefix="Later"))  # new chunks go to Milvus only
    assert len(moved.vectors()) == moved.stats().chunks
    moved.close()


# sentences as the corpus has them: possessives, hyphens, accents, figures, inflections
SENTENCES = [
    "Sam Bankman-Fried's lawyers said the Astros were stealing signs in 2017.",
    "Café owners in São Paulo reported 1,200 complaints; regulators weren't convinced.",
    "The U.S. Federal Reserve held rates at 5.25%-5.5% after Powell's remarks on inflation.",
    "Streamers need 350 monthly paid subscriptions_to qualify for Partner Plus.",
]


def test_milvus_reads_text_as_fts5_porter_tokenizer_does() -> None:
    """The BM25 on Milvus sees the very tokens FTS5 sees on the embedded backend, so the
    lexical scores agree whichever backend runs (milvus-lite ignores stemming filters)."""
    import sqlite3

    from index.milvus import analysed

    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    for n, sentence in enumerate(SENTENCES, start=1):
        conn.execute("INSERT INTO t(rowid, x) VALUES (?, ?)", (n, sentence))
        fts5 = [r[0] for r in conn.execute("SELECT term FROM v WHERE doc=? ORDER BY offset", (n,))]
        assert analysed(sentence).split() == fts5
    assert "steal" in analysed("stealing").split()


def test_milvus_bm25_finds_other_forms_of_a_word_and_ranks_as_fts5(tmp_path: Path) -> None:
    pytest.importorskip("pymilvus", reason="Milvus needs the scale extra")
    import sqlite3

    import numpy as np

    from index.milvus import MilvusChunks

    texts = [
        "The Astros stole signs by banging on a trash can.",
        "Fans threw inflatable trash cans at the Astros during the World Series.",
        "A court heard that the sign stealing scheme ran through the 2017 season.",
        "The weather was fine for the game.",
    ]
    milvus = MilvusChunks(tmp_path / "milvus.db", 4)
    vectors = np.eye(4, dtype=np.float32)
    milvus.write(range(1, 5), vectors, ["Baseball"] * 4, texts, ["Sports"] * 4, [None] * 4)
    found = milvus.text_search(["steal", "signs"], 0.5, 10)
    assert set(found) == {1, 3} and found[3] > found[1] > 0  # "stealing", "signs" both match
    cans = milvus.text_search(["trash", "can"], 0.5, 10)
    assert set(cans) == {1, 2} and min(cans.values()) > 0  # "cans" is "can"
    # the scores FTS5 gives the same chunks, in the same order (lexical shares are ratios)
    store = sqlite3.connect(":memory:")
    store.execute("CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize = 'porter unicode61')")
    store.executemany(
        "INSERT INTO t(rowid, title, text) VALUES (?, 'Baseball', ?)", enumerate(texts, 1)
    )
    fts5 = dict(
        store.execute("SELECT rowid, -bm25(t, 0.5, 1.0) FROM t WHERE t MATCH 'steal OR signs'")
    )
    assert sorted(fts5, key=fts5.get) == sorted(found, key=found.get)
    milvus.close()


def test_a_collection_from_an_earlier_version_is_moved_without_encoding(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    """Milvus holding the raw-text collection of an earlier version (no FAISS files left):
    its vectors move to the analysed collection, the old one is dropped, answers hold."""
    pytest.importorskip("pymilvus", reason="Milvus needs the scale extra")
    from index.backends import copy_to_milvus, faiss_generation
    from index.milvus import OLD_COLLECTIONS, MilvusChunks

    data_dir = tmp_path / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([seed_article, *filler_articles(4)])
    chunks = index.stats().chunks
    uri = str(data_dir / "milvus.db")
    old = MilvusChunks(uri, embedder.dim, OLD_COLLECTIONS[0])
    assert copy_to_milvus(index.store, faiss_generation(index.store, data_dir), old) == chunks
    old.close()
    index.close()
    for faiss_file in data_dir.glob("*.faiss"):
        faiss_file.unlink()

    moved = NewsIndex(data_dir, embedder=embedder, questions=questions, milvus_uri=uri)
    assert len(moved.vectors()) == chunks
    assert not moved.vectors().client.has_collection(OLD_COLLECTIONS[0])
    answer = moved.answer("Turkey Israel talks Azerbaijan")
    assert answer.found and answer.citations[0].article_id == seed_article.id
    moved.close()
