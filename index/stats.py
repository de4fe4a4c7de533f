"""What `NewsIndex.stats` reports (for `newsbot stats` and /stats), and the warnings it carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The articles of a damaged segment file are still found by their words (BM25), not by meaning.
DAMAGED_VECTORS = (
    "vector file(s) %s in %s are missing or damaged: their articles are found by keywords "
    "only; move the data folder away and run `newsbot ingest` again to rebuild"
)


@dataclass(frozen=True)
class IndexStats:
    articles: int
    chunks: int
    sources: list[tuple[str, int, datetime | None]]
    first: datetime | None
    last: datetime | None
    model: str | None
    dim: int | None
    generation: int
    size_bytes: int
    # chunks indexed before sentence vectors existed: they rank without the sentence rerank
    missing_sentence_vectors: int = 0
    damaged_vector_files: tuple[str, ...] = ()  # found by keywords only until a rebuild

    def to_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "outlets": len(self.sources),
            "first_published": self.first.isoformat() if self.first else None,
            "last_published": self.last.isoformat() if self.last else None,
            "model": self.model,
            "dim": self.dim,
            "size_bytes": self.size_bytes,
        }
