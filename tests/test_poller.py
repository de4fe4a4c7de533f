"""FeedPoller and `newsbot feeds ...`: feeds from a local HTTP server into a real index.

Nothing touches the internet: every feed and page is served by a server started here.
"""

from __future__ import annotations

import argparse
import html
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localweb import LIBRARY, SOLAR, LocalWeb, closed_port_url, item, rss

import corpus.loaders.feeds as feed_loader
from cli.feeds import add_commands as add_feed_commands
from cli.feeds import ingest_urls
from corpus.loaders.opml import read_opml
from index import NewsIndex
from index.embedder import Embedder
from services import paths
from services.feeds import FeedList, FeedPoller, PollReport, ensure_default_feeds
from services.settings import Settings

# --- documents --------------------------------------------------------------------------------

GLACIER = [
    "Scientists measuring the Morteratsch glacier reported that it lost a further forty metres "
    "of length over the past year, one of the largest retreats since records began there.",
    "The team drilled stakes into the ice at twelve points in spring and returned in autumn to "
    "read how much of each stake had been exposed by melting.",
    "They blamed a dry winter with little fresh snow followed by two long heatwaves, and warned "
    "that the lower tongue of the glacier could split from the main body within a decade.",
    "Mountain guides have already moved the start of the popular hiking route twice, because "
    "the ladders that once led down onto the ice no longer reach its surface.",
]
RAIL = [
    "Train drivers on the northern network began a forty-eight hour strike at dawn on "
    "Thursday after talks over pay and rest breaks collapsed late on Wednesday night.",
    "The operator ran a skeleton timetable with roughly one train in five, and advised "
    "commuters to work from home or to expect crowded replacement buses along the coast line.",
    "Union leaders said a second walkout would follow next month unless the company improved "
    "its offer, which they described as a real-terms pay cut for most of their members.",
    "The company said it regretted the disruption and remained open to talks, but insisted "
    "that its offer was fair given the rising cost of energy and of new rolling stock.",
]
BEES = [
    "Volunteers at the Lindenfeld allotments counted eighty-four beehives this summer, twice as "
    "many as five years ago, after the council banned pesticide spraying on public verges.",
    "The beekeepers' association said honey yields were the best in a decade, and that wild "
    "bumblebee species had also returned to the meadows planted along the old railway cutting.",
]
NEW_TEXT = [
    "Correction: the floating solar farm at Port Elwyn will supply about a third of the town's "
    "electricity in summer, not a fifth as first reported, the operator said on Tuesday.",
    *SOLAR[1:],
]

T0 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def page(title: str, paragraphs: list[str]) -> bytes:
    """An article page with the usual menus, cookie banner and footer around the text."""
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Town Herald</title><meta property="og:site_name" content="Town Herald">
<meta property="og:title" content="{title}"></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/local">Local</a></li>
<li><a href="/sport">Sport</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies. Accept all cookies to continue browsing.</div>
<main><article><h1>{title}</h1>{text}</article></main>
<footer><p>© 2025 Town Herald. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>""".encode()


def wire_feed(base: str) -> bytes:
    return rss(
        "Test Wire",
        item("Floating solar farm opens", f"{base}/wire/solar", SOLAR),
        item("Glacier retreat speeds up", f"{base}/wire/glacier", GLACIER),
        item("Rail drivers strike", f"{base}/wire/rail", RAIL),
    )


# --- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LocalWeb]:
    with LocalWeb() as web:
        yield web


@pytest.fixture
def feedlist(tmp_path: Path) -> FeedList:
    return FeedList(tmp_path / "data" / "feeds.sqlite")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def poller(feedlist: FeedList, news_index: NewsIndex, clock: Clock) -> Iterator[FeedPoller]:
    with FeedPoller(feedlist, news_index, clock=clock, timeout=5) as p:
        yield p


def body_of(index: NewsIndex, url: str) -> list[str]:
    rows = index.store.conn.execute("SELECT body FROM articles WHERE url = ?", (url,)).fetchall()
    return [row[0] for row in rows]


# --- polling ----------------------------------------------------------------------------------


def test_full_text_feed_lands_and_a_304_costs_nothing(
    server: LocalWeb,
    poller: FeedPoller,
    feedlist: FeedList,
    news_index: NewsIndex,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.serve("/wire.xml", wire_feed(server.base), etag='"w1"')
    feed, _ = feedlist.add(url, "Test Wire")

    report = poller.poll_all()
    [result] = report.feeds
    assert (result.new, result.updated, result.duplicates, result.error) == (3, 0, 0, None)
    assert result.name == "Test Wire" and not result.not_modified
    assert report.new == 3 and report.failed == 0
    assert "1 feed polled" in report.summary() and "3 new" in report.summary()
    assert report.lines() == ["Test Wire: 3 new, 0 updated, 0 unchanged"]
    assert server.count("/wire/solar") == 0  # full text in the feed: no page fetched

    answer = news_index.answer("Where did a floating solar farm open?")
    assert answer.found and answer.citations[0].url == f"{server.base}/wire/solar"
    assert answer.citations[0].source == "Test Wire"
    assert {row.ingested_at for row in news_index.latest(10)} == {T0}  # the poller's clock

    state = feedlist.get(feed.id)
    assert state is not None and state.etag == '"w1"'
    assert state.last_fetch_at == T0 and state.last_new_article_at == T0
    assert state.articles_seen == 3 and state.error_count == 0

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a 304 was parsed")

    monkeypatch.setattr(feed_loader, "parse_feed", must_not_parse)
    generation = news_index.generation
    clock.now = T0 + timedelta(minutes=15)
    server.requests.clear()
    again = poller.poll_all()
    assert again.feeds[0].not_modified and again.feeds[0].ok
    assert (again.new, again.updated, again.failed) == (0, 0, 0)
    assert again.lines() == ["Test Wire: not modified"]
    assert news_index.generation == generation  # nothing ingested
    assert server.requests[0][1]["if-none-match"] == '"w1"'
    state = feedlist.get(feed.id)
    assert state is not None
    assert state.last_fetch_at == clock.now and state.last_new_article_at == T0


def test_summary_only_feed_gets_its_pages_extracted_once(
    server: LocalWeb, poller: FeedPoller, feedlist: FeedList, news_index: NewsIndex
) -> None:
    bees = server.serve("/herald/bees", page("Beehives double", BEES), "text/html")
    library = server.serve("/herald/library", page("Library reopens", LIBRARY), "text/html")
    teasers = [
        item("Beehives double", bees, summary="Allotment volunteers count more hives."),
        item("Library reopens", library, summary="The renovated library is open again."),
    ]
    url = server.serve("/herald.xml", rss("Town Herald", *teasers))  # no validators
    feedlist.add(url)

    report = poller.poll_all()
    assert report.new == 2 and report.failed == 0
    assert report.feeds[0].name == "Town Herald"  # the feed's own title
    assert body_of(news_index, bees) == ["\n\n".join(BEES)]  # page text, boilerplate gone
    answer = news_index.answer("How many beehives did the allotment volunteers count?")
    assert answer.found and answer.citations[0].url == bees

    gone = f"{server.base}/herald/gone"
    server.serve("/herald.xml", rss("Town Herald", *teasers, item("Gone", gone, summary="Gone.")))
    again = poller.poll_all()
    [result] = again.feeds
    assert (result.new, result.unchanged) == (1, 2)
    assert server.count("/herald/bees") == 1 and server.count("/herald/library") == 1
    assert len(result.warnings) == 1 and "404" in result.warnings[0]  # teaser kept instead
    assert body_of(news_index, gone) == ["Gone."]


def test_failing_feeds_are_recorded_while_another_still_lands(
    server: LocalWeb,
    poller: FeedPoller,
    feedlist: FeedList,
    news_index: NewsIndex,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = server.serve("/broken.xml", b"<?xml version='1.0'?><rss><channel><<<oops", "text/xml")
    failing = server.serve("/500.xml", b"oops", "text/plain", status=500)
    refused = closed_port_url()
    good = server.serve("/good.xml", wire_feed(server.base))
    for url in (broken, failing, refused, good):
        feedlist.add(url)
    server.max_in_flight = 0

    with caplog.at_level(logging.WARNING, logger="services.feeds.poller"):
        report = poller.poll_all()  # never raises for a feed's trouble
    assert [r.url for r in report.feeds] == [broken, failing, refused, good]
    assert report.failed == 3 and report.new == 3
    assert report.feeds[3].ok and report.feeds[3].new == 3
    assert "not a readable feed" in (report.feeds[0].error or "")
    assert report.feeds[1].error == "HTTP 500 Internal Server Error"
    assert "ConnectError" in (report.feeds[2].error or "")
    assert "3 failed" in report.summary()
    assert report.lines()[1].endswith("FAILED: HTTP 500 Internal Server Error")
    assert sum("failed" in r.message for r in caplog.records) == 3

    states = {f.url: f for f in feedlist.list()}
    assert states[failing].last_error == "HTTP 500 Internal Server Error"
    assert states[failing].error_count == 1 and states[failing].last_fetch_at == T0
    assert states[refused].error_count == 1 and states[broken].error_count == 1
    assert states[good].last_error is None and states[good].articles_seen == 3
    assert server.max_in_flight == 1  # one host: one request at a time


def test_same_text_under_two_urls_is_stored_once(
    server: LocalWeb, poller: FeedPoller, feedlist: FeedList, news_index: NewsIndex
) -> None:
    url = server.serve(
        "/syndicated.xml",
        rss(
            "Syndicated",
            item("Glacier retreat speeds up", f"{server.base}/a/glacier", GLACIER),
            item("Glacier loses forty metres", f"{server.base}/b/glacier-story", GLACIER),
        ),
    )
    feedlist.add(url)
    report = poller.poll_all()
    assert (report.new, report.duplicates) == (1, 1)
    assert news_index.stats().articles == 1
    assert report.lines() == ["Syndicated: 1 new, 0 updated, 0 unchanged, 1 duplicate"]

    again = poller.poll_all()
    assert (again.new, again.unchanged) == (0, 1) and news_index.stats().articles == 1


def test_updated_item_replaces_the_old_one(
    server: LocalWeb, poller: FeedPoller, feedlist: FeedList, news_index: NewsIndex, clock: Clock
) -> None:
    link = f"{server.base}/live/solar"
    url = server.serve("/live.xml", rss("Live", item("Solar farm", link, SOLAR)), etag='"v1"')
    feed, _ = feedlist.add(url)
    assert poller.poll_all().new == 1

    server.serve("/live.xml", rss("Live", item("Solar farm", link, NEW_TEXT)), etag='"v2"')
    clock.now = T0 + timedelta(hours=1)
    report = poller.poll_all()
    assert (report.new, report.updated) == (0, 1)
    assert body_of(news_index, link) == ["\n\n".join(NEW_TEXT)]  # one article, the new text
    answer = news_index.answer("What share of Port Elwyn's electricity will the solar farm supply?")
    assert answer.found and "a third" in answer.citations[0].passage
    state = feedlist.get(feed.id)
    assert state is not None and state.etag == '"v2"'
    assert state.last_new_article_at == T0  # an update is not a new article


def test_ensure_default_feeds_seeds_once_and_respects_a_removal(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    defaults = ["https://one.example.test/rss", "https://two.example.test/atom.xml"]
    added = ensure_default_feeds(FeedList(path), defaults)
    assert [f.url for f in added] == defaults

    feeds = FeedList(path)
    assert feeds.remove(defaults[0])
    assert ensure_default_feeds(FeedList(path), defaults) == []  # the next start
    assert [f.url for f in FeedList(path).list()] == [defaults[1]]

    later = [*defaults, "feed://three.example.test/rss", "not a url at all://"]
    assert [f.url for f in ensure_default_feeds(FeedList(path), later)] == [
        "http://three.example.test/rss"
    ]


def test_poll_with_no_feeds(poller: FeedPoller) -> None:
    report = poller.poll_all()
    assert isinstance(report, PollReport) and report.feeds == []
    assert report.summary() == "no feeds to poll"


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def run_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> Callable[..., int]:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()

    def open_index(settings: Settings, *, create: bool = False) -> NewsIndex:
        data_dir, model = settings.data_dir, settings.embedding_model
        return NewsIndex(data_dir, model, create=create, embedder=embedder)

    monkeypatch.setattr(paths, "open_index", open_index)
    parser = argparse.ArgumentParser(prog="newsbot")
    add_feed_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str | Path) -> int:
        args = parser.parse_args([str(a) for a in argv])
        return args.func(args, settings)

    run.settings = settings  # type: ignore[attr-defined]
    return run


def test_cli_feed_commands(
    server: LocalWeb,
    run_cli: Callable[..., int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wire = server.serve("/cli-wire.xml", wire_feed(server.base))
    failing = server.serve("/cli-500.xml", b"oops", "text/plain", status=500)

    assert run_cli("feeds", "list") == 0
    assert "no feeds followed" in capsys.readouterr().out
    assert run_cli("feeds", "poll") == 1
    assert "no feeds followed" in capsys.readouterr().err

    assert run_cli("feeds", "add", wire, "--name", "Test Wire") == 0
    assert f"following #1 {wire}" in capsys.readouterr().out
    assert run_cli("feeds", "add", wire) == 0
    assert "already following #1" in capsys.readouterr().out
    assert run_cli("feeds", "add", "ftp://files.example.test/feed") == 2
    assert "not an http(s) feed URL" in capsys.readouterr().err

    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        f"""<?xml version="1.0"?><opml version="2.0"><head/><body>
        <outline text="News"><outline text="Wire" xmlUrl="{wire}"/>
        <outline text="Broken" title="Broken Feed" xmlUrl="{failing}"/>
        <outline text="Bad" xmlUrl="gopher://old.example.test/"/></outline></body></opml>""",
        encoding="utf-8",
    )
    assert run_cli("feeds", "import", opml) == 0
    out, err = capsys.readouterr()
    assert "1 added, 1 already followed, 1 skipped" in out and "gopher" in err
    not_opml = tmp_path / "notes.opml"
    not_opml.write_text("plain text", encoding="utf-8")
    assert run_cli("feeds", "import", not_opml) == 2
    assert "not a readable OPML" in capsys.readouterr().err
    assert run_cli("feeds", "import", tmp_path / "missing.opml") == 2
    capsys.readouterr()

    assert run_cli("feeds", "export") == 0
    exported = read_opml(capsys.readouterr().out)
    assert exported == [(wire, "Test Wire"), (failing, "Broken Feed")]

    assert run_cli("feeds", "poll") == 0  # one feed failed, the other landed
    out = capsys.readouterr().out
    assert "Test Wire: 3 new" in out and "FAILED: HTTP 500" in out
    assert "2 feeds polled" in out and "3 new" in out and "1 failed" in out

    assert run_cli("feeds", "list") == 0
    out = capsys.readouterr().out
    assert "#1 Test Wire" in out and "3 articles so far" in out and "last fetch never" not in out
    assert "ERROR (1 failure in a row): HTTP 500 Internal Server Error" in out
    assert run_cli("feeds", "list", "--json") == 0
    assert '"error_count": 1' in capsys.readouterr().out

    feeds = FeedList(run_cli.settings.data_dir / "feeds.sqlite")  # type: ignore[attr-defined]
    broken = feeds.get(failing)
    assert broken is not None
    assert run_cli("feeds", "remove", f"#{broken.id}") == 0
    assert f"stopped following #{broken.id}" in capsys.readouterr().out
    assert run_cli("feeds", "remove", failing) == 1
    assert "not following" in capsys.readouterr().err
    assert run_cli("feeds", "remove", "gopher://x") == 2
    capsys.readouterr()
    assert run_cli("feeds", "remove", wire) == 0
    assert feeds.list() == []


def test_ingest_urls(
    server: LocalWeb, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    settings: Settings = run_cli.settings  # type: ignore[attr-defined]
    bees = server.serve("/pages/bees", page("Beehives double", BEES), "text/html")
    missing = f"{server.base}/pages/missing"

    # as `newsbot ingest` hands them over: argparse's Path() folds "//"
    assert ingest_urls([Path(bees)], settings) == 0
    out = capsys.readouterr().out
    assert f"{bees}: added" in out and "1 new" in out
    assert ingest_urls([bees, missing], settings) == 1
    out, err = capsys.readouterr()
    assert f"{bees}: already indexed" in out and "404" in err and "1 failed" in out
    assert ingest_urls([bees, "notes.txt"], settings) == 2
    assert "not a web address: notes.txt" in capsys.readouterr().err

    index = NewsIndex(settings.data_dir, create=False)
    try:
        assert index.stats().articles == 1
    finally:
        index.close()
