"""What the store hands out: articles without their bodies, chunks, and date helpers."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from corpus.models import Article


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def rows_in(conn: sqlite3.Connection, sql: str, ids: Sequence[object]) -> Iterator[sqlite3.Row]:
    """Rows of `sql` for the given ids, where `{marks}` in `sql` stands for the id list; 500 at
    a time, under SQLite's limit on bound variables."""
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        yield from conn.execute(sql.format(marks=",".join("?" * len(part))), part)


def body_hash(article: Article) -> str:
    """Same text under another URL (wire stories) hashes the same."""
    words = re.sub(r"\W+", " ", article.body.lower()).split()
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArticleRow:
    """An article as stored, without its body (what citations need)."""

    id: str
    title: str
    source: str | None
    url: str | None
    published_at: datetime | None
    highlights: tuple[str, ...]
    ingested_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published_at": iso(self.published_at),
        }

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ArticleRow:
        return cls(
            id=row["id"],
            title=row["title"],
            source=row["source"],
            url=row["url"],
            published_at=parse_iso(row["published_at"]),
            highlights=tuple(json.loads(row["highlights"])),
            ingested_at=parse_iso(row["ingested_at"]),
        )


@dataclass(frozen=True)
class ChunkRow:
    id: int
    article_id: str
    position: int
    text: str
