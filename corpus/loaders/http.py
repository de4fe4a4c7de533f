"""One polite HTTP GET for feeds and pages: named, conditional, bounded in time and size."""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass, field, replace

import httpx

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot/newsbot)"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 15.0

ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class FetchResult:
    """What one GET produced. `error` is set for anything the caller cannot use."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when there is a fresh body to use (not an error, not a 304)."""
        return self.error is None and not self.not_modified

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def text(self) -> str:
        """The body as text, decoded as the server or the page says (see `decode_body`)."""
        return decode_body(self.body, self.content_type)


def fetch(
    url: str,
    *,
    client: httpx.Client,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    accept: str = ACCEPT_HTML,
) -> FetchResult:
    """GET `url`, never raising for network or HTTP trouble: failures come back in `error`.

    The body is read in chunks and abandoned as soon as it passes `max_bytes` (after
    decompression, so a small gzip bomb is caught too); `timeout` bounds each network wait and
    the whole transfer, so a server trickling bytes cannot hold us either.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    final_url = url
    try:
        with client.stream(
            "GET", url, headers=headers, timeout=timeout, follow_redirects=True
        ) as response:
            final_url = str(response.url)
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            new_etag = response.headers.get("etag") or etag
            new_modified = response.headers.get("last-modified") or last_modified
            result = FetchResult(
                url=final_url,
                status=status,
                headers=resp_headers,
                etag=new_etag,
                last_modified=new_modified,
            )
            if status == 304:
                return replace(result, not_modified=True)
            if not 200 <= status < 300:
                return replace(result, error=f"HTTP {status} {response.reason_phrase}".strip())
            declared = _int_or_none(response.headers.get("content-length"))
            if declared is not None and declared > max_bytes:
                return replace(result, error=f"response larger than {max_bytes} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    return replace(result, error=f"response larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    return replace(result, error=f"timed out after {timeout:g} s")
                chunks.append(chunk)
            return replace(result, body=b"".join(chunks))
    except httpx.TimeoutException:
        return FetchResult(url=final_url, error=f"timed out after {timeout:g} s")
    except httpx.TooManyRedirects:
        return FetchResult(url=final_url, error="too many redirects")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        reason = str(exc) or type(exc).__name__
        return FetchResult(url=final_url, error=f"{type(exc).__name__}: {reason}")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- decoding -------------------------------------------------------------------------------

_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([a-zA-Z0-9_.:\-]+)["']""")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Browsers read these labels as windows-1252 (WHATWG Encoding), and so do real pages.
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}
_SNIFF_BYTES = 4096


def charset_from_content_type(content_type: str | None) -> str | None:
    """The `charset=` parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
    return match.group(1).decode("ascii") if match else None


def bom_charset(body: bytes) -> str | None:
    """The encoding a byte-order mark announces; it outranks any declaration."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def sniff_charset(body: bytes) -> str | None:
    """Charset from an XML declaration or an HTML <meta> near the top of the document."""
    head = body[:_SNIFF_BYTES]
    match = _XML_DECL.search(head)
    if match:
        return match.group(1).decode("ascii")
    for meta in re.finditer(rb"<meta\b[^>]*>", head, re.IGNORECASE):
        found = _CHARSET_PARAM.search(meta.group(0))
        if found:
            return found.group(1).decode("ascii")
    return None


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Decode a page without ever raising.

    Order: a BOM, the header's charset, the document's own declaration, then UTF-8 if the
    bytes are valid UTF-8, else windows-1252. Bytes invalid in the chosen charset become U+FFFD.
    """
    codec = _codec(bom_charset(body)) or _codec(charset_from_content_type(content_type))
    if codec is None:
        codec = _codec(sniff_charset(body))
        if codec is not None and codec.startswith("utf-16"):
            codec = "utf-8"  # a declaration we could read in ASCII cannot be true UTF-16
    if codec is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            codec = "cp1252"
    if codec == "utf-8" and body.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    return body.decode(codec, errors="replace")
