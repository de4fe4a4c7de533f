"""Answers, article lists and inline results as Telegram HTML, within Telegram's limits.

Pure functions: no network, no python-telegram-bot. Every piece of article or user text goes
through `_text` (or `_attr` inside an attribute), so a title like ``<script>&`` shows as text.
Messages are measured in UTF-16 code units of the *raw HTML*: that is never less than what
Telegram counts (the text after parsing), so a message within `limit` is always accepted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

from index.answer import Answer, Citation, Outlet
from index.store import ArticleRow

MESSAGE_LIMIT = 4096  # Telegram's limit for a text message, in UTF-16 code units
INLINE_DESCRIPTION_LIMIT = 200
INLINE_TITLE_LIMIT = 100

QUESTION_CHARS = 200
TITLE_CHARS = 250
TIMELINE_CHARS = 280  # one line per report: ten of them fit in one message
QUOTE_CHARS = 600  # per quoted sentence; a whole answer should fit on a phone screen or two
PASSAGE_CHARS = 400  # fallback when a citation has no quoted sentence
HIGHLIGHT_CHARS = 300
OUTLET_CHARS = 80
URL_CHARS = 2048  # longer URLs are not linked: they would eat the message budget
ALSO_OUTLETS = 5
EXPANDABLE_CHARS = 500  # quotes longer than this go in a collapsed (expandable) blockquote

ELLIPSIS = "…"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A tag or a character reference: the atoms that shortening must never cut.
_TOKEN_RE = re.compile(r"<[^<>]*>|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")


# -- text helpers ---------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (emoji outside the BMP count twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _text(text: str) -> str:
    """Escape text for an HTML text node."""
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    """Escape text for a double-quoted attribute value."""
    return html.escape(text, quote=True)


def _squash(text: str) -> str:
    """One line: feeds and extractors leave newlines and runs of spaces inside sentences."""
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    """Plain text shortened to at most `limit` characters, at a word boundary, with "…".

    Works on unescaped text, so escaping afterwards can never split an entity.
    """
    text = _squash(text)
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL if it may be linked (http/https, has a host, no spaces), else None.

    Keeps `javascript:` and other schemes out of href, and skips absurdly long URLs.
    """
    if not url:
        return None
    url = url.strip()
    if len(url) > URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _link(label_html: str, url: str | None) -> str:
    """`label_html` as a link when the URL is safe, else unchanged."""
    href = safe_url(url)
    return f'<a href="{_attr(href)}">{label_html}</a>' if href else label_html


def format_date(dt: datetime | None, tz: tzinfo | None = None) -> str:
    """`12 Apr 2025`, in `tz` when given (naive datetimes are taken as UTC); "" when undated.

    Month names are spelled out here rather than with strftime("%b"), which follows the locale.
    """
    if dt is None:
        return ""
    if tz is not None:
        dt = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(tz)
    return f"{dt.day} {_MONTHS[dt.month - 1]} {dt.year}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- shortening and splitting ---------------------------------------------------------------


def _runs(markup: str) -> list[str | list[str]]:
    """Split HTML into tags (str) and text runs (lists of atoms: a character or an entity)."""
    parts: list[str | list[str]] = []
    run: list[str] = []
    pos = 0
    for match in _TOKEN_RE.finditer(markup):
        run.extend(markup[pos : match.start()])
        token = match.group()
        if token.startswith("<"):
            if run:
                parts.append(run)
                run = []
            parts.append(token)
        else:
            run.append(token)
        pos = match.end()
    run.extend(markup[pos:])
    if run:
        parts.append(run)
    return parts


def _cut_run(run: list[str], budget: int) -> list[str]:
    """The start of a text run within `budget` units, ending in "…" (at a word if one is near)."""
    kept: list[str] = []
    used = 1  # the ellipsis
    for atom in run:
        used += utf16_len(atom)
        if used > budget:
            break
        kept.append(atom)
    spaces = [i for i, atom in enumerate(kept) if atom.isspace()]
    if spaces and spaces[-1] > len(kept) * 0.8:
        kept = kept[: spaces[-1]]
    while kept and (kept[-1].isspace() or kept[-1] in ",;:-–—"):
        kept.pop()
    return [*kept, ELLIPSIS]


def shorten_html(markup: str, limit: int = MESSAGE_LIMIT) -> str:
    """Fit well-formed HTML within `limit` by cutting text, never a tag or an entity.

    The longest text run (in an answer block, the quote) is cut first, so the outlet, date and
    link survive; tags are all kept, so the result stays balanced. Only if the tags alone do not
    fit is the markup dropped and the plain text cut.
    """
    if utf16_len(markup) <= limit:
        return markup
    parts = _runs(markup)
    excess = utf16_len(markup) - limit
    runs = sorted((p for p in parts if isinstance(p, list)), key=lambda r: -utf16_len("".join(r)))
    for run in runs:
        size = utf16_len("".join(run))
        if size <= 1:
            break
        new = _cut_run(run, max(size - excess, 1))
        excess -= size - utf16_len("".join(new))
        run[:] = new
        if excess <= 0:
            return "".join(p if isinstance(p, str) else "".join(p) for p in parts)
    plain = [atom for p in _runs(markup) if isinstance(p, list) for atom in p]
    return "".join(_cut_run(plain, limit))


def _pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Greedily join blocks into as few messages as fit, splitting only between blocks."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block.strip():
            continue
        block = shorten_html(block, limit)
        joined = f"{current}{separator}{block}" if current else block
        if utf16_len(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def split_messages(blocks: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Blocks joined by blank lines into as few messages as possible, each within `limit`.

    A block is never split across messages; one that is too long on its own is shortened by
    cutting its text (see `shorten_html`). Each block must be balanced HTML, so each message is.
    """
    return _pack(blocks, limit, "\n\n")


# -- answers ---------------------------------------------------------------------------------


def _quote_html(citation: Citation) -> str:
    """The quoted sentence(s) in a blockquote, the best (first) one in bold."""
    quotes = [_clip(q, QUOTE_CHARS) for q in citation.quotes if q.strip()]
    if not quotes and citation.passage.strip():
        quotes = [_clip(citation.passage, PASSAGE_CHARS)]
    if not quotes:
        return ""
    first, rest = quotes[0], quotes[1:]
    body = f"<b>{_text(first)}</b>" + "".join(f" {_text(q)}" for q in rest)
    tag = "blockquote expandable" if sum(map(len, quotes)) > EXPANDABLE_CHARS else "blockquote"
    return f"<{tag}>{body}</blockquote>"


def _attribution(
    title: str, source: str | None, url: str | None, date: datetime | None, tz: tzinfo | None
) -> str:
    """`— <a>Outlet</a>, 12 Apr 2025 · <i>Title</i>`; with no outlet the title is the link."""
    title_html = _text(_clip(title, TITLE_CHARS)) if title.strip() else ""
    when = format_date(date, tz)
    if source and source.strip():
        head = _link(_text(_clip(source, OUTLET_CHARS)), url)
        tail = f"<i>{title_html}</i>" if title_html else ""
    else:
        head = _link(f"<i>{title_html or 'Untitled'}</i>", url)
        tail = ""
    head = f"{head}, {when}" if when else head
    return "— " + " · ".join(part for part in (head, tail) if part)


def _also_html(outlets: Sequence[Outlet], tz: tzinfo | None) -> str:
    """`Also reported by: <a>Outlet A</a> (12 Apr 2025), Outlet B`, at most a handful."""
    names: list[str] = []
    for outlet in outlets[:ALSO_OUTLETS]:
        name = outlet.source or outlet.title or "another outlet"
        item = _link(_text(_clip(name, OUTLET_CHARS)), outlet.url)
        when = format_date(outlet.published_at, tz)
        names.append(f"{item} ({when})" if when else item)
    if not names:
        return ""
    more = len(outlets) - ALSO_OUTLETS
    tail = f" and {more} more" if more > 0 else ""
    return "Also reported by: " + ", ".join(names) + tail


def _citation_html(citation: Citation, number: int | None = None, tz: tzinfo | None = None) -> str:
    """One cited article: number, quote, attribution line, other outlets. Balanced HTML."""
    lines = []
    quote = _quote_html(citation)
    label = f"<b>{number}.</b> " if number is not None else ""
    if quote:
        lines.append(label + quote)
    attribution = _attribution(
        citation.title, citation.source, citation.url, citation.published_at, tz
    )
    lines.append(attribution if quote else label + attribution)
    also = _also_html(citation.also, tz)
    if also:
        lines.append(also)
    return "\n".join(lines)


def _lead(question: str, count: int, start: int) -> str:
    asked = _text(_clip(question, QUESTION_CHARS))
    if start == 1:
        return f"<b>{_plural(count, 'report')} on</b> “{asked}”"
    end = start + count - 1
    span = f"Report {start}" if count == 1 else f"Reports {start}–{end}"
    return f"<b>{span} on</b> “{asked}”"


def _not_found(question: str) -> str:
    """The plain "nothing found" message, pointing at /latest."""
    asked = _text(_clip(question, QUESTION_CHARS))
    return (
        f"I found no relevant reporting on “{asked}”. "
        "Try rephrasing, or see /latest for the newest articles."
    )


def render_answer(
    answer: Answer, *, start: int = 1, tz: tzinfo | None = None, limit: int = MESSAGE_LIMIT
) -> list[str]:
    """An answer as messages ready to send: a lead line, then one block per cited article.

    Citations are numbered from `start`, so a second page continues the first.
    """
    if answer.hint:
        return [_text(answer.hint)]
    note = f"\n<i>{_text(answer.note)}</i>" if answer.note and start == 1 else ""
    if not answer.found:
        return [_not_found(answer.question) + note]
    if answer.timeline:
        return render_timeline(answer, tz=tz, limit=limit)
    blocks = [_lead(answer.question, len(answer.citations), start) + note]
    blocks += [
        _citation_html(c, number, tz) for number, c in enumerate(answer.citations, start=start)
    ]
    return split_messages(blocks, limit)


def render_timeline(
    answer: Answer, *, tz: tzinfo | None = None, limit: int = MESSAGE_LIMIT
) -> list[str]:
    """A story in date order: one line per report (date, outlet linked, what it said)."""
    asked = _text(_clip(answer.question, QUESTION_CHARS))
    blocks = [f"<b>Timeline</b> of “{asked}” ({_plural(len(answer.citations), 'report')})"]
    for citation in answer.citations:
        when = format_date(citation.published_at, tz) or "undated"
        outlet = _text(_clip(citation.source or citation.title, OUTLET_CHARS))
        said = " ".join(citation.quotes) or citation.title
        blocks.append(
            f"<b>{when}</b> · {_link(outlet, citation.url)}\n{_text(_clip(said, TIMELINE_CHARS))}"
        )
    return split_messages(blocks, limit)


# -- other commands --------------------------------------------------------------------------


def render_sources(
    sources: list[tuple[str, int, datetime | None]], tz: tzinfo | None = None
) -> list[str]:
    """`/sources`: each outlet with its article count and latest date, one per line."""
    if not sources:
        return ["No articles have been added yet."]
    total = sum(count for _, count, _ in sources)
    lines = [f"<b>{_plural(len(sources), 'outlet')}</b>, {_plural(total, 'article')}\n"]
    for outlet, count, latest in sources:
        when = format_date(latest, tz)
        line = f"<b>{_text(_clip(outlet, OUTLET_CHARS))}</b> — {_plural(count, 'article')}"
        lines.append(f"{line}, latest {when}" if when else line)
    return _pack(lines, separator="\n")


def _latest_html(article: ArticleRow, tz: tzinfo | None) -> str:
    title = _text(_clip(article.title, TITLE_CHARS)) or "Untitled"
    lines = [_link(f"<b>{title}</b>", article.url)]
    meta = [_text(_clip(article.source, OUTLET_CHARS)) if article.source else ""]
    meta.append(format_date(article.published_at, tz))
    if any(meta):
        lines.append(" · ".join(m for m in meta if m))
    highlight = next((h for h in article.highlights if h.strip()), "")
    if highlight:
        lines.append(f"<i>{_text(_clip(highlight, HIGHLIGHT_CHARS))}</i>")
    return "\n".join(lines)


def render_latest(
    articles: list[ArticleRow], topic: str | None, tz: tzinfo | None = None
) -> list[str]:
    """`/latest [topic]`: newest articles, each with its title linked, outlet, date, highlight."""
    about = f" on “{_text(_clip(topic, QUESTION_CHARS))}”" if topic and topic.strip() else ""
    if not articles:
        return [f"No articles{about} yet."]
    blocks = [f"<b>Latest reports</b>{about}"] + [_latest_html(a, tz) for a in articles]
    return split_messages(blocks)


def render_inline_result(citation: Citation, tz: tzinfo | None = None) -> tuple[str, str, str]:
    """(title, description, message HTML) for an inline-query result.

    Title and description are plain text (Telegram shows them unformatted in the result list);
    the message is what gets posted in the chat when the result is chosen.
    """
    title = _clip(citation.title, INLINE_TITLE_LIMIT) or "Untitled"
    meta = ", ".join(
        part for part in (citation.source or "", format_date(citation.published_at, tz)) if part
    )
    quote = next((q for q in citation.quotes if q.strip()), "") or citation.passage
    description = " — ".join(part for part in (_squash(meta), _squash(quote)) if part)
    message = shorten_html(_citation_html(citation, None, tz), MESSAGE_LIMIT)
    return title, _clip(description, INLINE_DESCRIPTION_LIMIT), message
