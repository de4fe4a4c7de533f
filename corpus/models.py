"""The one article model every loader produces and the index consumes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, field_validator, model_validator

from corpus import clean

# C0 control characters but tab, newline and carriage return, and DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_url(url: str) -> str:
    """Drop fragments and trailing slashes so one page has one id."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def article_id(url: str | None, title: str, published_at: datetime | None) -> str:
    """Stable id: from the URL when there is one, else from title + published date."""
    if url:
        key = "url:" + normalise_url(url)
    else:
        day = published_at.date().isoformat() if published_at else ""
        key = "title:" + " ".join(title.lower().split()) + "|" + day
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


class Article(BaseModel):
    """A news article, normalised. Dates are timezone-aware (naive ones are taken as UTC)."""

    id: str = ""
    title: str = Field(min_length=1)
    body: str = Field(min_length=1)
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    category: str | None = None
    highlights: list[str] = Field(default_factory=list)

    @field_validator("title", "body")
    @classmethod
    def _strip_required(cls, value: str) -> str:
        value = _CONTROL.sub(" ", value).strip()  # NULs, escapes, bells: never shown to readers
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("body")
    @classmethod
    def _clean_body(cls, value: str) -> str:
        cleaned = clean.clean_body(value)
        if not cleaned:
            raise ValueError("holds only page boilerplate (sign-up prompts, ads, credits)")
        return cleaned

    @field_validator("source", "url", "author", "category", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("published_at", "updated_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _fill_id(self) -> Article:
        if not self.id:
            self.id = article_id(self.url, self.title, self.published_at)
        return self

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index; unchanged hash = nothing to redo.

        The cleaner's version is in it: a better cleaner replaces the old passages on re-ingest.
        """
        payload = self.model_dump(mode="json", exclude={"id"}) | {"cleaner": clean.VERSION}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadError:
    """A file or record that could not be read; reported, then skipped."""

    path: str
    reason: str
    record: int | None = None

    def __str__(self) -> str:
        where = self.path if self.record is None else f"{self.path} (record {self.record})"
        return f"{where}: {self.reason}"


@dataclass
class LoadResult:
    """What a loader produced: the good articles and the reasons for the bad ones."""

    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.articles.extend(other.articles)
        self.errors.extend(other.errors)
