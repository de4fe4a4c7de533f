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
