"""Shared fixtures: the real embedding model once per session, temporary data directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.loaders import load_path, seed_path
from corpus.models import Article
from index import NewsIndex
from index.embedder import Embedder

REPO = Path(__file__).resolve().parent.parent
NEWSDATA = REPO.parent / "shared" / "newsdata"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def seed_article() -> Article:
    result = load_path(seed_path())
    assert not result.errors
    return result.articles[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def news_index(data_dir: Path, embedder: Embedder) -> NewsIndex:
    index = NewsIndex(data_dir, create=True, embedder=embedder)
    yield index
    index.close()


@pytest.fixture(scope="session")
def newsdata() -> Path:
    if not (NEWSDATA / "corpus.json").exists():
        pytest.skip(f"MultiHop-RAG data not found at {NEWSDATA} (../shared/newsdata)")
    return NEWSDATA


def make_article(title: str, body: str, **fields: object) -> Article:
    return Article(title=title, body=body, **fields)
