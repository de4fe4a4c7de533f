"""RSS 2.0 / Atom / RDF feeds to `Article`s, and one polite poll of a feed."""

from __future__ import annotations

import calendar
import html
import io
import re
import time
from collections.abc import Callable, Container, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from xml.sax import SAXException

import feedparser
import httpx
from pydantic import ValidationError

from corpus.loaders.http import ACCEPT_FEED, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, fetch
from corpus.loaders.web import fetch_article
from corpus.models import Article, LoadError, LoadResult

# A feed body shorter than this is taken as a teaser, and the linked page is fetched instead.
SUMMARY_MAX_CHARS = 600
MAX_TITLE_CHARS = 120


# --- HTML fragments to text -----------------------------------------------------------------

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
    "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "svg"}


class _TextCollector(HTMLParser):
    """Collect text, starting a new paragraph at every block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skipping = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one paragraph per block element, blank line between.

    Tag-free text keeps its blank-line paragraphs: many feeds put plain text in HTML fields.
    """
    if "<" not in fragment:
        return _plain_paragraphs(html.unescape(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    collector._flush()
    return "\n\n".join(collector.paragraphs)


# --- parsing --------------------------------------------------------------------------------


@dataclass
class FeedParseResult(LoadResult):
    """A `LoadResult` that also says which articles only carry the feed's teaser text."""

    feed_title: str | None = None
    summary_only: set[str] = field(default_factory=set)  # Article ids


def parse_feed(
    content: bytes,
    feed_url: str,
    feed_name: str | None = None,
    *,
    content_type: str | None = None,
) -> FeedParseResult:
    """Parse feed bytes into Articles; a feed that cannot be read gives a LoadError, never raises.

    feedparser decodes the bytes itself (XML declaration, BOM, `content_type`), resolves
    relative links against `feed_url` and strips scripts from embedded HTML.
    """
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    # A file object, never bare bytes: feedparser opens bytes that name an existing file.
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    result = FeedParseResult()
    # bozo also flags harmless things (a text/html Content-Type); only XML errors count here.
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    xml_error = exc if isinstance(exc, SAXException) else None
    if not parsed.entries:
        if not parsed.get("version"):  # an HTML page, JSON, an empty body...
            reason = "not an RSS, Atom or RDF feed" + (f" ({exc})" if exc else "")
            result.errors.append(LoadError(feed_url, reason))
        elif xml_error:
            result.errors.append(LoadError(feed_url, f"not a readable feed: {xml_error}"))
        return result
    if xml_error:
        reason = f"malformed XML, {len(parsed.entries)} entries recovered anyway: {xml_error}"
        result.errors.append(LoadError(feed_url, reason))

    feed_title = _one_line(parsed.feed.get("title"))
    result.feed_title = feed_title
    source = _one_line(feed_name) or feed_title or urlsplit(feed_url).hostname
    seen: set[str] = set()
    for number, entry in enumerate(parsed.entries, start=1):
        try:
            article, summary_only = entry_to_article(entry, source)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            result.errors.append(LoadError(feed_url, _reason(exc), record=number))
            continue
        if article.id in seen:
            continue
        seen.add(article.id)
        result.articles.append(article)
        if summary_only:
            result.summary_only.add(article.id)
    return result


def entry_to_article(entry: Any, source: str | None) -> tuple[Article, bool]:
    """One feedparser entry -> (Article, whether its body is only a summary)."""
    body = _longest_content(entry)
    from_summary = not body
    if from_summary:
        body = _as_text(entry.get("summary"), entry.get("summary_detail"))
    title = _one_line(_as_text(entry.get("title"), entry.get("title_detail"))) or _title_from(body)
    if not title:
        raise ValueError("entry has neither title nor text")
    if not body:
        body = title  # a headline-only item: the linked page is the article
    published = _datetime(entry.get("published_parsed"))
    updated = _datetime(entry.get("updated_parsed"))
    article = Article(
        title=title,
        body=body,
        source=source,
        url=entry.get("link") or None,
        author=_one_line(entry.get("author")),
        published_at=published or updated,
        updated_at=updated,
        category=_category(entry),
    )
    summary_only = from_summary or len(body) < SUMMARY_MAX_CHARS
    return article, summary_only


def _as_text(value: object, detail: Any) -> str:
    """Plain text of a feed field; only fields feedparser marks as (X)HTML are parsed as HTML."""
    if not isinstance(value, str):
        return ""
    kind = (detail or {}).get("type") or "text/html"
    if "html" in kind:
        return html_to_text(value)
    return _plain_paragraphs(value)


def _plain_paragraphs(text: str) -> str:
    """Whitespace tidied inside paragraphs; blank lines between them kept."""
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


def _longest_content(entry: Any) -> str:
    """Full text from `content:encoded` or Atom <content>, if the entry has any."""
    texts = [_as_text(c.get("value"), c) for c in entry.get("content") or []]
    return max(texts, key=len, default="")


def _category(entry: Any) -> str | None:
    for tag in entry.get("tags") or []:
        term = _one_line(tag.get("label") or tag.get("term"))
        if term:
            return term
    return None


def _datetime(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are struct_time in UTC."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _one_line(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _title_from(body: str) -> str | None:
    first = body.split("\n", 1)[0].strip()
    if len(first) <= MAX_TITLE_CHARS:
        return first or None
    return first[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


# --- polling --------------------------------------------------------------------------------

# Content hashes of the given article ids that are already indexed (ids not indexed: absent).
Indexed = Callable[[list[str]], Mapping[str, str]]
# Held around each request to a URL's host (politeness); the default holds nothing.
Polite = Callable[[str], AbstractContextManager[object]]


def _no_wait(url: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass
class FeedPoll:
    """The outcome of one poll. `error` is set when the feed itself failed (fetch or parse);
    `warnings` are full-text pages that could not be used (the teaser was kept instead)."""

    url: str
    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[LoadError] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    status: int | None = None
    feed_title: str | None = None
    error: str | None = None
    unchanged: int = 0  # entries left out: already indexed with the same text

    @property
    def ok(self) -> bool:
        return self.error is None


def poll_feed(
    url: str,
    *,
    client: httpx.Client,
    etag: str | None = None,
    last_modified: str | None = None,
    name: str | None = None,
    fetch_full_text: bool = True,
    known_ids: Container[str] = (),
    indexed: Indexed | None = None,
    polite: Polite = _no_wait,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> FeedPoll:
    """Conditional GET of a feed; parse it; fetch the page behind each teaser-only entry.

    Teaser-only entries whose id is in `known_ids` or `indexed` are left out (their pages are
    not fetched again), so a poller that passes what it already indexed costs the sites one
    request per new article. Entries that carry their full text are returned unless `indexed`
    holds the very same text (content hash): a corrected story under the same URL replaces the
    old one instead of being dropped as "known". What is left out is counted in `unchanged`.

    `indexed(ids)` gives the content hash of each id already indexed; `polite(url)` is held
    around every request (feed and pages), e.g. one request at a time per host.
    On a failed fetch or parse the old validators are returned, so the next poll retries fully.
    """
    poll = FeedPoll(url=url, etag=etag, last_modified=last_modified)
    with polite(url):
        fetched = fetch(
            url,
            client=client,
            etag=etag,
            last_modified=last_modified,
            max_bytes=max_bytes,
            timeout=timeout,
            accept=ACCEPT_FEED,
        )
    poll.status = fetched.status
    if fetched.error:
        poll.error = fetched.error
        poll.errors.append(LoadError(url, fetched.error))
        return poll
    if fetched.not_modified:
        poll.not_modified = True
        poll.etag, poll.last_modified = fetched.etag, fetched.last_modified
        return poll

    parsed = parse_feed(fetched.body, fetched.url, name, content_type=fetched.content_type)
    poll.feed_title = parsed.feed_title
    poll.errors.extend(parsed.errors)
    if not parsed.articles and parsed.errors:
        poll.error = parsed.errors[0].reason
        return poll
    poll.etag, poll.last_modified = fetched.etag, fetched.last_modified
    hashes = indexed([a.id for a in parsed.articles]) if indexed is not None else {}
    for article in parsed.articles:
        if article.id in parsed.summary_only:
            if article.id in hashes or article.id in known_ids:
                poll.unchanged += 1  # its page was fetched once; the teaser tells nothing new
                continue
            if fetch_full_text and article.url:
                with polite(article.url):
                    article = _with_full_text(article, client, poll, max_bytes, timeout)
        elif hashes.get(article.id) == article.content_hash:
            poll.unchanged += 1
            continue
        poll.articles.append(article)
    return poll


def _with_full_text(
    teaser: Article, client: httpx.Client, poll: FeedPoll, max_bytes: int, timeout: float
) -> Article:
    """The teaser with the linked page's text, or the teaser itself (plus a warning)."""
    assert teaser.url is not None
    try:
        extracted = fetch_article(teaser.url, client, max_bytes=max_bytes, timeout=timeout)
    except ValueError as exc:
        reason = str(exc).removeprefix(f"{teaser.url}: ")
        poll.warnings.append(LoadError(teaser.url, f"full text not used: {reason}"))
        return teaser
    if len(extracted.body) <= len(teaser.body):
        poll.warnings.append(LoadError(teaser.url, "full text not used: page shorter than feed"))
        return teaser
    highlights = extracted.highlights
    if teaser.body != teaser.title and not extracted.body.startswith(teaser.body[:200]):
        highlights = [teaser.body]  # the feed's teaser is the article's own summary
    # Feed metadata wins: it is structured, while page metadata is scraped.
    return teaser.model_copy(
        update={
            "body": extracted.body,
            "author": teaser.author or extracted.author,
            "published_at": teaser.published_at or extracted.published_at,
            "category": teaser.category or extracted.category,
            "highlights": highlights,
        }
    )
