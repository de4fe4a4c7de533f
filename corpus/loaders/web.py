"""Turn one article web page into an `Article`: main text only, no menus, footers or ads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from corpus.loaders.http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    decode_body,
    fetch,
)
from corpus.models import Article

# Below this much text the "article" is a menu, a cookie wall or an error page.
MIN_BODY_CHARS = 80
MAX_TITLE_CHARS = 120


def extract_article(html: str | bytes, url: str, *, min_chars: int = MIN_BODY_CHARS) -> Article:
    """Extract the main text and metadata of an article page with trafilatura.

    Bytes are decoded from the page's own declaration (see `decode_body`); pass text when the
    HTTP header said which charset. Raises ValueError when no usable article text is found.
    """
    trafilatura = _trafilatura()
    text = decode_body(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise ValueError(f"{url}: empty page")
    doc = trafilatura.bare_extraction(
        text,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        date_extraction_params={
            "extensive_search": True,
            "original_date": True,
            "outputformat": "%Y-%m-%dT%H:%M:%S%z",
        },
    )
    if doc is None:
        raise ValueError(f"{url}: no article text found")
    meta: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    title = _clean(meta.get("title"))
    paragraphs = [line.strip() for line in (meta.get("text") or "").splitlines() if line.strip()]
    if title and paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # trafilatura keeps the <h1>, which repeats the title
    body = "\n\n".join(paragraphs)
    if len(body) < min_chars:
        raise ValueError(f"{url}: no article text found (only {len(body)} characters)")
    description = _clean(meta.get("description"))
    highlights = [description] if description and not body.startswith(description) else []
    categories = meta.get("categories") or []
    return Article(
        title=title or _title_from(body),
        body=body,
        source=_clean(meta.get("sitename")) or urlsplit(url).hostname,
        url=url,
        author=_clean(meta.get("author")),
        published_at=_parse_date(meta.get("date")),
        category=_clean(categories[0]) if categories else None,
        highlights=highlights,
    )


def fetch_article(
    url: str,
    client: httpx.Client,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> Article:
    """Download and extract one page. Raises ValueError (with the reason) on any failure."""
    result = fetch(url, client=client, max_bytes=max_bytes, timeout=timeout)
    if result.error:
        raise ValueError(f"{url}: {result.error}")
    if result.not_modified:  # cannot happen without validators, but never extract nothing
        raise ValueError(f"{url}: server answered 304 Not Modified")
    content_type = (result.content_type or "").split(";")[0].strip().lower()
    if content_type and "html" not in content_type and "xml" not in content_type:
        raise ValueError(f"{url}: not a web page ({content_type})")
    return extract_article(result.text(), url)


def _trafilatura() -> Any:
    """Import trafilatura on first use, with a clear message when the install is broken."""
    try:
        import trafilatura
    except ImportError as exc:  # e.g. lxml >= 5.2 without the separate lxml_html_clean
        raise RuntimeError(
            f"trafilatura cannot be imported ({exc}); install trafilatura with its dependencies "
            "(lxml_html_clean is a separate package since lxml 5.2)"
        ) from exc
    return trafilatura


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _title_from(body: str) -> str:
    """A title for a page without one: its first line, cut at a word boundary."""
    first = body.split("\n", 1)[0]
    if len(first) <= MAX_TITLE_CHARS:
        return first
    return first[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _parse_date(value: object) -> datetime | None:
    """trafilatura/htmldate gives `YYYY-MM-DDTHH:MM:SS[+HHMM]`; a bare date means midnight UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
