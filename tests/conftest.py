"""Shared fixtures: the real embedding model once per session, temporary data directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.loaders import load_path, seed_path
from corpus.models import Article
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder, export

REPO = Path(__file__).resolve().parent.parent
NEWSDATA = REPO.parent / "shared" / "newsdata"


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
def news_index(data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder) -> NewsIndex:
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    yield index
    index.close()


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
