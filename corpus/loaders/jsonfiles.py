"""JSON (a list of objects) and JSON Lines with the MultiHop-RAG field names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from corpus.models import Article, LoadError, LoadResult

FIELDS = ("title", "author", "source", "published_at", "updated_at", "category", "url", "body")


def record_to_article(record: Any) -> Article:
    """Map one record to an Article; extra fields are ignored, `highlights` kept if present."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    data = {key: record.get(key) for key in FIELDS if record.get(key) is not None}
    highlights = record.get("highlights")
    if isinstance(highlights, list):
        data["highlights"] = [str(h).strip() for h in highlights if str(h).strip()]
    return Article.model_validate(data)


def describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{field}: {first['msg']}"
    return str(exc)


def _records_to_result(path: Path, records: list[tuple[int, Any]]) -> LoadResult:
    result = LoadResult()
    for number, record in records:
        try:
            result.articles.append(record_to_article(record))
        except (ValidationError, ValueError) as exc:
            result.errors.append(LoadError(str(path), describe(exc), number))
    return result


def load_json(path: Path) -> LoadResult:
    """A JSON list of article objects (a single object is accepted too)."""
    text = path.read_bytes().decode("utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return LoadResult(errors=[LoadError(str(path), f"invalid JSON: {exc}")])
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return LoadResult(errors=[LoadError(str(path), "expected a JSON list of articles")])
    if not data:
        return LoadResult(errors=[LoadError(str(path), "holds an empty list: no articles")])
    return _records_to_result(path, list(enumerate(data, start=1)))


def load_jsonl(path: Path) -> LoadResult:
    """One article object per line; a bad line is reported with its number and skipped."""
    text = path.read_bytes().decode("utf-8")
    records: list[tuple[int, Any]] = []
    result = LoadResult()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            result.errors.append(LoadError(str(path), f"invalid JSON: {exc.msg}", number))
    result.extend(_records_to_result(path, records))
    return result
