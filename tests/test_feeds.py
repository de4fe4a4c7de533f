"""Live-news input: HTTP fetch, feeds, page extraction, OPML and the feed registry.

Everything runs against a local HTTP server started here; nothing touches the internet.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from localweb import LocalWeb

from corpus.loaders import feeds as feeds_module
from corpus.loaders.feeds import html_to_text, parse_feed, poll_feed
from corpus.loaders.http import USER_AGENT, decode_body, fetch
from corpus.loaders.opml import read_opml, write_opml
from corpus.loaders.web import extract_article, fetch_article
from services.feeds import FeedList, normalise_feed_url

# --- fixtures: documents ----------------------------------------------------------------------

PARAS = [
    "The city council voted seven to two on Tuesday to fund a new bridge across the river, "
    "ending a decade of debate about the crossing.",
    "Construction is expected to begin next spring and will take about three years, according "
    "to the city's transport department.",
    "Opponents argued the money would be better spent on buses, but supporters said the bridge "
    "would cut commuting times in half.",
]

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Council approves new bridge | City Times</title>
<meta name="author" content="Maria Lopez">
<meta property="og:site_name" content="City Times">
<meta property="og:title" content="Council approves new bridge">
<meta name="description" content="The council voted 7-2 to fund the river crossing.">
<meta property="article:published_time" content="2025-06-10T14:30:00+02:00">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies. Accept all cookies to continue browsing.</div>
<main><article><h1>Council approves new bridge</h1>
<p>{PARAS[0]}</p><p>{PARAS[1]}</p><p>{PARAS[2]}</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/x">Celebrity spotted at local cafe</a></li></ul></aside>
<footer><p>© 2025 City Times. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of service</a></footer>
</body></html>"""

LONG_TEXT = " ".join(["Ministers met in Brussels to agree the budget for the coming year."] * 12)


def rss_full() -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example News</title><link>https://example.test/</link>
<item><title>Budget agreed &amp; signed</title><link>/news/budget</link>
<dc:creator>Jane Doe</dc:creator><pubDate>Tue, 10 Jun 2025 14:30:00 +0200</pubDate>
<category>Politics</category><category>Europe</category>
<description>Short teaser.</description>
<content:encoded><![CDATA[<p>{LONG_TEXT}</p><p>Second <b>paragraph</b> here.</p>
<script>alert(1)</script>]]></content:encoded></item>
</channel></rss>""".encode()


def atom_full() -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Times</title><id>urn:x</id>
<updated>2025-06-11T09:00:00Z</updated>
<entry><title>Atom entry</title><link href="https://example.test/atom/1"/><id>urn:1</id>
<published>2025-06-10T08:00:00+01:00</published><updated>2025-06-11T09:00:00Z</updated>
<author><name>Bob Smith</name></author><category term="Science"/>
<content type="html">&lt;p&gt;{LONG_TEXT}&lt;/p&gt;&lt;p&gt;Closing line.&lt;/p&gt;</content>
</entry></feed>""".encode()


RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.test/"><title>RDF Wire</title><link>https://example.test/</link>
<description>wire</description></channel>
<item rdf:about="https://example.test/rdf/1"><title>RDF item</title>
<link>https://example.test/rdf/1</link><description>An RDF summary.</description>
<dc:date>2025-06-10T12:00:00Z</dc:date></item>
</rdf:RDF>"""


def rss_summaries(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>City Times</title><link>{base}/</link>
<item><title>Council approves new bridge</title><link>{base}/articles/bridge</link>
<pubDate>Tue, 10 Jun 2025 12:30:00 GMT</pubDate>
<description>&lt;p&gt;Council approves bridge funding.&lt;/p&gt;</description></item>
<item><title>Gone story</title><link>{base}/articles/missing</link>
<description>This page no longer exists.</description></item>
</channel></rss>""".encode()


# --- fixtures: server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LocalWeb]:
    with LocalWeb() as web:
        yield web


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


# --- feeds over HTTP --------------------------------------------------------------------------


def test_rss_with_full_text(server: LocalWeb, client: httpx.Client) -> None:
    server.serve("/rss-full.xml", rss_full(), "application/rss+xml")
    server.requests.clear()
    poll = poll_feed(f"{server.base}/rss-full.xml", client=client)

    assert poll.ok and not poll.errors and not poll.warnings
    [article] = poll.articles
    assert article.title == "Budget agreed & signed"
    assert article.url == f"{server.base}/news/budget"  # relative link resolved
    assert article.author == "Jane Doe"
    assert article.source == "Example News"
    assert article.category == "Politics"
    assert article.published_at == datetime(2025, 6, 10, 12, 30, tzinfo=UTC)
    assert article.body == f"{LONG_TEXT}\n\nSecond paragraph here."
    assert "alert" not in article.body
    assert server.paths() == ["/rss-full.xml"]  # full text in the feed: no page fetched
    assert server.requests[0][1]["user-agent"] == USER_AGENT


def test_atom_with_full_text(server: LocalWeb, client: httpx.Client) -> None:
    server.serve("/atom.xml", atom_full(), "application/atom+xml")
    poll = poll_feed(f"{server.base}/atom.xml", client=client, name="My Atom")

    [article] = poll.articles
    assert article.source == "My Atom"  # the name we gave wins over the feed's title
    assert poll.feed_title == "Atom Times"
    assert article.author == "Bob Smith"
    assert article.category == "Science"
    assert article.published_at == datetime(2025, 6, 10, 7, 0, tzinfo=UTC)
    assert article.updated_at == datetime(2025, 6, 11, 9, 0, tzinfo=UTC)
    assert article.body.endswith("\n\nClosing line.")


def test_rdf_and_summary_flag() -> None:
    result = parse_feed(RDF, "https://example.test/rdf", None)
    [article] = result.articles
    assert article.title == "RDF item" and article.source == "RDF Wire"
    assert article.body == "An RDF summary."
    assert article.published_at == datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    assert result.summary_only == {article.id}

    full = parse_feed(rss_full(), "https://example.test/rss", None)
    assert full.summary_only == set()


def test_summary_only_entries_fetch_and_extract_the_page(
    server: LocalWeb, client: httpx.Client
) -> None:
    server.serve("/summaries.xml", rss_summaries(server.base), "application/rss+xml")
    server.serve("/articles/bridge", ARTICLE_HTML.encode(), "text/html; charset=utf-8")
    server.requests.clear()
    poll = poll_feed(f"{server.base}/summaries.xml", client=client)

    assert poll.ok
    bridge, gone = poll.articles
    assert bridge.body == "\n\n".join(PARAS)  # paragraphs kept, boilerplate gone
    for boilerplate in ("Home", "Sport", "cookies", "Most read", "Privacy", "rights reserved"):
        assert boilerplate not in bridge.body
    assert bridge.title == "Council approves new bridge"
    assert bridge.url == f"{server.base}/articles/bridge"
    assert bridge.source == "City Times"
    assert bridge.author == "Maria Lopez"  # from the page: the feed had none
    assert bridge.published_at == datetime(2025, 6, 10, 12, 30, tzinfo=UTC)  # feed's date
    assert bridge.highlights == ["Council approves bridge funding."]

    assert gone.body == "This page no longer exists."  # 404: the teaser is kept
    [warning] = poll.warnings
    assert warning.path.endswith("/articles/missing") and "404" in warning.reason

    again = poll_feed(f"{server.base}/summaries.xml", client=client, known_ids={bridge.id})
    assert [a.id for a in again.articles] == [gone.id]
    assert server.paths().count("/articles/bridge") == 1  # known article: page not refetched


def test_conditional_get_not_modified(
    server: LocalWeb, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def route(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.send_response(304)
            handler.end_headers()
            return
        body = rss_full()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("ETag", '"v1"')
        handler.send_header("Last-Modified", "Tue, 10 Jun 2025 12:00:00 GMT")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/cond.xml"] = route
    first = poll_feed(f"{server.base}/cond.xml", client=client)
    assert first.articles and first.etag == '"v1"'
    assert first.last_modified == "Tue, 10 Jun 2025 12:00:00 GMT"

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a 304")

    monkeypatch.setattr(feeds_module, "parse_feed", must_not_parse)
    server.requests.clear()
    second = poll_feed(
        f"{server.base}/cond.xml",
        client=client,
        etag=first.etag,
        last_modified=first.last_modified,
    )
    assert second.ok and second.not_modified and second.articles == []
    assert second.etag == '"v1"' and second.last_modified == first.last_modified
    headers = server.requests[0][1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Tue, 10 Jun 2025 12:00:00 GMT"


def test_broken_xml_is_reported(server: LocalWeb, client: httpx.Client) -> None:
    server.serve("/broken.xml", b"<?xml version='1.0'?><rss><channel><<<not xml", "text/xml")
    poll = poll_feed(f"{server.base}/broken.xml", client=client, etag='"old"')
    assert not poll.ok and poll.articles == []
    assert "not a readable feed" in (poll.error or "")
    assert poll.errors[0].path == f"{server.base}/broken.xml"
    assert poll.etag == '"old"'  # validators kept, so the next poll refetches

    server.serve("/page.html", ARTICLE_HTML.encode(), "text/html")
    assert "not an RSS" in (poll_feed(f"{server.base}/page.html", client=client).error or "")


def test_http_500_is_reported(server: LocalWeb, client: httpx.Client) -> None:
    server.serve("/500.xml", b"oops", "text/plain", status=500)
    poll = poll_feed(f"{server.base}/500.xml", client=client)
    assert not poll.ok and poll.status == 500
    assert poll.error == "HTTP 500 Internal Server Error"


def test_slow_server_times_out_promptly(server: LocalWeb, client: httpx.Client) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        server.release.wait(5)

    server.routes["/slow.xml"] = slow
    started = time.monotonic()
    poll = poll_feed(f"{server.base}/slow.xml", client=client, timeout=0.5)
    assert time.monotonic() - started < 2
    assert poll.error == "timed out after 0.5 s"


def test_huge_page_is_refused_while_streaming(server: LocalWeb, client: httpx.Client) -> None:
    chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
    total = 50 * 1024 * 1024

    def huge(handler: BaseHTTPRequestHandler) -> None:
        # HTTP/1.0 without Content-Length: the size is only known by reading.
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(total // len(chunk)):
            handler.wfile.write(chunk)
            server.sent_bytes += len(chunk)

    server.routes["/huge.html"] = huge
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = fetch(f"{server.base}/huge.html", client=client, max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert result.error == "response larger than 1000000 bytes"
    assert result.body == b""
    assert peak < 10 * 1024 * 1024
    time.sleep(0.2)
    assert server.sent_bytes < 20 * 1024 * 1024  # the server was cut off, not drained

    def declared(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        handler.wfile.write(chunk)

    server.routes["/declared.html"] = declared
    result = fetch(f"{server.base}/declared.html", client=client, max_bytes=1_000_000)
    assert result.error == "response larger than 1000000 bytes"


# --- charsets ---------------------------------------------------------------------------------

CP1252_TEXT = "Café society: “quoted” prices rose to €5 – naïve"


def _page(paragraph: str, head: str = "") -> str:
    return (
        f"<html><head>{head}<title>Prices</title></head><body><article><h1>Prices</h1>"
        f"<p>{paragraph} {PARAS[0]}</p><p>{PARAS[1]}</p></article></body></html>"
    )


def test_windows_1252_page_from_header(server: LocalWeb, client: httpx.Client) -> None:
    body = _page(CP1252_TEXT).encode("cp1252")
    server.serve("/cp1252.html", body, "text/html; charset=windows-1252")
    result = fetch(f"{server.base}/cp1252.html", client=client)
    assert CP1252_TEXT in result.text()
    article = fetch_article(f"{server.base}/cp1252.html", client)
    assert article.body.startswith(CP1252_TEXT)


def test_latin1_declared_in_meta_reads_as_windows_1252(
    server: LocalWeb, client: httpx.Client
) -> None:
    body = _page(
        CP1252_TEXT, '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    )
    server.serve("/latin1.html", body.encode("cp1252"), "text/html")
    article = fetch_article(f"{server.base}/latin1.html", client)
    assert article.body.startswith(CP1252_TEXT)  # curly quotes and € survive, as in browsers


def test_invalid_bytes_for_declared_charset_do_not_crash(
    server: LocalWeb, client: httpx.Client
) -> None:
    body = _page("Broken \xff\xfe bytes \xc3( here").encode("latin-1")
    server.serve("/invalid.html", body, "text/html; charset=utf-8")
    article = fetch_article(f"{server.base}/invalid.html", client)
    assert "\ufffd" in article.body and "bytes" in article.body

    assert decode_body(b"caf\xe9", "text/html; charset=no-such-charset") == "café"
    assert decode_body(b"\xef\xbb\xbfhi", None) == "hi"
    assert decode_body("\u00e9t\u00e9".encode(), None) == "été"


def test_non_utf8_feed(server: LocalWeb, client: httpx.Client) -> None:
    xml = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel>'
        "<title>Le Journal</title><item><title>Café “crème”</title>"
        "<link>https://example.test/cafe</link>"
        f"<description>{CP1252_TEXT}</description></item></channel></rss>"
    ).encode("cp1252")
    server.serve("/cp1252.xml", xml, "application/rss+xml")
    poll = poll_feed(f"{server.base}/cp1252.xml", client=client, fetch_full_text=False)
    [article] = poll.articles
    assert article.title == "Café “crème”" and article.body == CP1252_TEXT


# --- extraction and text helpers --------------------------------------------------------------


def test_extract_article_metadata() -> None:
    article = extract_article(ARTICLE_HTML.encode(), "https://example.test/a/1")
    assert article.title == "Council approves new bridge"
    assert article.source == "City Times" and article.author == "Maria Lopez"
    assert article.published_at == datetime(2025, 6, 10, 12, 30, tzinfo=UTC)
    assert article.highlights == ["The council voted 7-2 to fund the river crossing."]
    assert article.body == "\n\n".join(PARAS)


def test_extract_article_rejects_pages_without_text() -> None:
    with pytest.raises(ValueError, match="no article text"):
        extract_article(
            "<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://x.test"
        )
    with pytest.raises(ValueError, match="empty page"):
        extract_article(b"", "https://x.test")


def test_html_to_text_keeps_paragraphs() -> None:
    html = (
        "<p>One &amp; <b>two</b></p><ul><li>three</li><li>four</li></ul>five<br>six<style>x</style>"
    )
    assert html_to_text(html) == "One & two\n\nthree\n\nfour\n\nfive\n\nsix"
    assert html_to_text("plain\n\n  text  here ") == "plain\n\ntext here"


def test_feed_bytes_are_never_taken_for_a_file_name(tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_bytes(rss_full())
    result = parse_feed(str(local).encode(), "https://example.test/feed", None)
    assert result.articles == [] and result.errors  # feedparser.parse(bytes) would open it


# --- OPML -------------------------------------------------------------------------------------


def test_opml_round_trip(tmp_path: Path) -> None:
    nested = b"""<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>
    <outline text="News"><outline text="World">
      <outline type="rss" text="BBC text" title="BBC World" xmlUrl="https://bbc.test/world.xml"/>
    </outline>
    <outline type="rss" text="Only text" xmlUrl="https://t.test/rss"/></outline>
    <outline type="rss" xmlUrl="https://noname.test/feed"/>
    <outline type="rss" text="dupe" xmlUrl="https://t.test/rss"/>
    <outline text="a folder without feeds"/>
    </body></opml>"""
    feeds = read_opml(nested)
    assert feeds == [
        ("https://bbc.test/world.xml", "BBC World"),
        ("https://t.test/rss", "Only text"),
        ("https://noname.test/feed", None),
    ]
    path = tmp_path / "feeds.opml"
    path.write_text(write_opml(feeds), encoding="utf-8")
    assert read_opml(path) == feeds
    assert read_opml(str(path)) == feeds
    with pytest.raises(ValueError):
        read_opml(b"not xml <")


# --- feed registry ----------------------------------------------------------------------------


def test_feedlist_add_list_remove(tmp_path: Path) -> None:
    registry = FeedList(tmp_path / "feeds.sqlite")
    feed, created = registry.add(" HTTPS://News.Example.TEST:443/rss#top ", "  News  ")
    assert created and feed.url == "https://news.example.test/rss" and feed.name == "News"
    again, created = registry.add("https://news.example.test/rss")
    assert not created and again.id == feed.id
    other, _ = registry.add("feed://other.test/atom.xml")
    assert other.url == "http://other.test/atom.xml"
    assert [f.url for f in registry.list()] == [feed.url, other.url]

    assert registry.remove("HTTPS://NEWS.EXAMPLE.TEST/rss")
    assert not registry.remove(feed.id)
    assert registry.remove(str(other.id))
    assert registry.list() == []
    with pytest.raises(ValueError):
        registry.add("ftp://files.test/feed")


def test_feedlist_state(tmp_path: Path) -> None:
    registry = FeedList(tmp_path / "feeds.sqlite")
    feed, _ = registry.add("https://news.example.test/rss")
    t1 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    t2 = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)

    registry.record_failure(feed.url, "HTTP 500 Internal Server Error", at=t1)
    registry.record_failure(feed.id, "timed out after 15 s", at=t1)
    state = registry.get(feed.id)
    assert state is not None
    assert state.error_count == 2 and state.last_error == "timed out after 15 s"
    assert state.last_fetch_at == t1

    registry.record_success(feed.url, etag='"v2"', last_modified="x", new_articles=3, at=t2)
    registry.record_success(feed.url, etag='"v2"', last_modified="x", new_articles=0, at=t2)
    state = FeedList(tmp_path / "feeds.sqlite").get(feed.url)  # persisted, new instance
    assert state is not None
    assert (state.error_count, state.last_error) == (0, None)
    assert (state.etag, state.last_modified, state.articles_seen) == ('"v2"', "x", 3)
    assert state.last_new_article_at == t2 and state.last_fetch_at == t2


def test_feedlist_from_two_threads(tmp_path: Path) -> None:
    registry = FeedList(tmp_path / "feeds.sqlite")
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(25):
                feed, _ = registry.add(f"https://site{i}.test/rss")
                registry.record_success(feed.id, etag=None, last_modified=None, new_articles=1)
                registry.list()
        except BaseException as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    feeds = registry.list()
    assert len(feeds) == 25 and all(f.articles_seen == 2 for f in feeds)
    assert normalise_feed_url("example.test/feed") == "https://example.test/feed"
