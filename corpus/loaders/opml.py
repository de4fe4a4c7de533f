"""OPML, the format feed readers import and export subscription lists in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path


def read_opml(source: str | Path | bytes) -> list[tuple[str, str | None]]:
    """(feed url, name) for every outline with an `xmlUrl`, however deeply nested.

    `source` is a path, or the document itself as bytes (or as a str starting with "<").
    The name is the outline's `title`, else its `text` (None when absent or just the URL);
    repeated URLs are kept once.
    Raises ValueError for a document that is not XML.
    """
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and source.lstrip().startswith("<"):
        data = source.encode("utf-8")
    else:
        data = Path(source).read_bytes()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not a readable OPML document: {exc}") from exc
    feeds: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        name = (outline.get("title") or outline.get("text") or "").strip() or None
        if name == url:  # written that way for a feed without a name
            name = None
        feeds.append((url, name))
    return feeds


def write_opml(feeds: Iterable[tuple[str, str | None]], title: str = "newsbot feeds") -> str:
    """An OPML 2.0 document listing `feeds` as (url, name) pairs, readable by any feed reader."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        label = name or url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
