"""Shared fixtures: the real embedding model once per session, temporary data directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from postgres import fresh_database

from corpus.loaders import load_path, seed_path
from corpus.models import Article
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder, export

REPO = Path(__file__).resolve().parent.parent
NEWSDATA = REPO.parent / "shared" / "newsdata"
BACKENDS = ("faiss", "milvus", "milvus-postgres")
BACKEND = os.environ.get("NEWSBOT_TEST_BACKEND", "faiss")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def questions(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> OnnxQuestionEncoder:
    """The question model as the bot runs it: the ONNX export of `embedder`, made once."""
    return OnnxQuestionEncoder(export(embedder, tmp_path_factory.mktemp("onnx") / "model"))


@pytest.fixture(scope="session")
def seed_article() -> Article:
    result = load_path(seed_path())
    assert not result.errors
    return result.articles[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def news_index(
    data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder
) -> Iterator[NewsIndex]:
    """An empty index on the backend `NEWSBOT_TEST_BACKEND` names (`make test-scale`)."""
    with backend_index(BACKEND, data_dir, embedder, questions) as index:
        yield index


@contextmanager
def backend_index(
    backend: str, data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder
) -> Iterator[NewsIndex]:
    """An empty index on `backend`: faiss (FAISS files + FTS5 in SQLite), milvus (vectors and
    BM25 on milvus-lite, articles in SQLite) or milvus-postgres (and the articles on the
    PostgreSQL server, in a database of its own)."""
    if backend not in BACKENDS:
        raise ValueError(f"NEWSBOT_TEST_BACKEND must be one of {BACKENDS}, not {backend!r}")
    with ExitStack() as stack:
        uri = url = None
        if backend.startswith("milvus"):
            pytest.importorskip("pymilvus", reason="Milvus needs the scale extra")
            uri = str(data_dir.parent / "milvus.db")
        if backend.endswith("postgres"):
            url = stack.enter_context(fresh_database())
        index = NewsIndex(
            data_dir,
            create=True,
            embedder=embedder,
            questions=questions,
            milvus_uri=uri,
            database_url=url,
        )
        stack.callback(index.close)
        yield index


@pytest.fixture
def seeded_index(news_index: NewsIndex, seed_article: Article) -> NewsIndex:
    """`news_index` holding the bundled seed article (Turkey and Israel's talks)."""
    news_index.ingest([seed_article])
    return news_index


@pytest.fixture(scope="session")
def newsdata() -> Path:
    if not (NEWSDATA / "corpus.json").exists():
        pytest.skip(f"MultiHop-RAG data not found at {NEWSDATA} (../shared/newsdata)")
    return NEWSDATA


def make_article(title: str, body: str, **fields: object) -> Article:
    return Article(title=title, body=body, **fields)
