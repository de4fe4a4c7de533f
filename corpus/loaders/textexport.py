"""Plain-text articles: the seed export format, or simply a title line and the body.

The export layout: an "updated" and a "published" timestamp line (`Apr 12, 2025, 8:26 AM`), the
title, a `Highlights` section of bullet lines, a `Story` section, an `Opinions` section (may
be empty) and trailing boilerplate such as `You've reached the end`, which is not content.
A `.txt` file that does not start with two timestamps is read as a title line, a blank line
and the body.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from corpus.loaders.jsonfiles import describe
from corpus.models import Article, LoadError, LoadResult

TIMESTAMP_FORMAT = "%b %d, %Y, %I:%M %p"
SECTIONS = ("Highlights", "Story", "Opinions")
BOILERPLATE = re.compile(r"^\s*you['’]ve reached the end\b.*$", re.IGNORECASE)
BULLET = re.compile(r"^\s*[•\-*·]\s*")


def parse_timestamp(line: str) -> datetime:
    """`Apr 12, 2025, 8:26 AM` -> aware datetime (the export carries no zone: UTC)."""
    return datetime.strptime(line.strip(), TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def parse_text_export(text: str, source_name: str = "") -> Article:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    content = [line for line in lines if line.strip()]
    if len(content) < 3:
        raise ValueError("expected two timestamp lines and a title")
    try:
        updated_at = parse_timestamp(content[0])
        published_at = parse_timestamp(content[1])
    except ValueError as exc:
        raise ValueError(f"unparseable date: {exc}") from exc
    title = content[2].strip()

    sections: dict[str, list[str]] = {name: [] for name in SECTIONS}
    current: str | None = None
    for line in lines[lines.index(content[2]) + 1 :]:
        stripped = line.strip()
        if stripped in SECTIONS:
            current = stripped
            continue
        if BOILERPLATE.match(stripped):
            break
        if current is not None:
            sections[current].append(line)

    highlights = [BULLET.sub("", h).strip() for h in sections["Highlights"] if h.strip()]
    paragraphs = _paragraphs(sections["Story"])
    opinions = _paragraphs(sections["Opinions"])
    body = "\n\n".join(paragraphs + opinions)
    return Article(
        title=title,
        body=body,
        published_at=published_at,
        updated_at=updated_at,
        highlights=highlights,
        source=source_name or None,
    )


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def parse_plain_text(text: str) -> Article:
    """A title line, then the body (a blank line between them, paragraphs kept)."""
    lines = text.replace("\r\n", "\n").strip().split("\n")
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
    if not body:
        raise ValueError(
            "expected a title line, a blank line and the body (or the export format: two "
            "timestamp lines, then the title)"
        )
    return Article(title=title, body="\n\n".join(_paragraphs(body.split("\n"))))


def _is_timestamp(line: str) -> bool:
    try:
        parse_timestamp(line)
    except ValueError:
        return False
    return True


def load_text_export(path: Path) -> LoadResult:
    text = path.read_bytes().decode("utf-8")
    export = any(_is_timestamp(line) for line in [ln for ln in text.splitlines() if ln.strip()][:2])
    try:
        article = parse_text_export(text) if export else parse_plain_text(text)
        return LoadResult(articles=[article])
    except (ValueError, ValidationError) as exc:
        return LoadResult(errors=[LoadError(str(path), describe(exc))])
