"""Live news: articles per minute from feed to searchable, and question latency under ingest.

Usage: python benchmarks/feed_throughput.py [--items 500] [--questions 100] [--ingest-threads N]

Serves `--items` deterministic news items from local HTTP servers (nothing touches the
internet): a share of them carry their full text in the feed, the rest are teasers whose
linked ~5-8 kB article page must be fetched and extracted (trafilatura). `FeedPoller.poll_all`
runs into a fresh index and the time until every article is searchable is measured. Then
question latency is measured idle and while an ingest runs in a thread, on the same index
(questions from ../shared/newsdata/MultiHopRAG.json when present, else generated).
"""

from __future__ import annotations

import argparse
import html
import json
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
from measure import percentile

from bot.app import share_the_interpreter
from corpus.models import Article
from index import NewsIndex
from services.feeds import FeedList, FeedPoller
from services.paths import serving_ingest_threads

ROOT = Path(__file__).resolve().parent.parent
MULTIHOP = ROOT.parent / "shared" / "newsdata" / "MultiHopRAG.json"

# --- deterministic news -----------------------------------------------------------------------

PLACES = [
    "Port Elwyn", "Ashford", "Lindenfeld", "Marisco", "Kellerby", "Sundvik", "Oranmore",
    "Belvas", "Tarrow", "Quillon", "Hestia Bay", "Norcross", "Valdora", "Ebbridge", "Saltmere",
    "Corvano", "Dunhallow", "Riverton", "Mellick", "Arkwater",
]  # fmt: skip
ORGS = [
    "the city council", "the regional health board", "the transport authority",
    "the national weather office", "the central bank", "the port operator", "the water company",
    "the teachers' union", "the energy regulator", "the university hospital",
    "the fisheries agency", "the housing association", "the football federation",
    "the state railway", "the environment ministry",
]  # fmt: skip
TOPICS = [
    "flood defences", "bus fares", "a new hospital wing", "school meals", "wind farm permits",
    "rent controls", "a coastal tram line", "hospital waiting lists", "river pollution",
    "a stadium rebuild", "night trains", "fishing quotas", "heat pump grants", "airport noise",
    "broadband roll-out", "wildfire prevention", "a teachers' pay deal", "recycling rules",
]  # fmt: skip
PEOPLE = [
    "Maria Lopez", "Tomasz Nowak", "Aisha Bello", "Henrik Dahl", "Chen Wei", "Fatima Rahman",
    "Lukas Brandt", "Grace Okafor", "Pedro Alves", "Ingrid Solberg", "Yusuf Demir", "Nora Kelly",
]  # fmt: skip
VERBS = ["approves", "rejects", "delays", "expands", "announces", "reviews", "cuts", "backs"]

SENTENCES = [
    "{Org} said on {day} that {topic} in {place} would cost about {n} million euros over {k} "
    "years.",
    "{person}, who has followed the issue for {org}, called the decision {adj} and said "
    "residents of {place} had waited long enough.",
    "Critics argued that the money for {topic} should instead go to {topic2}, which they "
    "described as the more pressing problem for {place}.",
    "According to figures published in {month}, {pct} percent of households in {place} would be "
    "affected by the change.",
    "The plan follows a public consultation that drew {n2} written responses, most of them "
    "from families living near the harbour and the old town.",
    "Officials expect the first stage to be finished by {month} next year, although similar "
    "projects in {place2} took almost twice as long as planned.",
    "Opposition members said they would table an amendment to cap the cost at {n} million and "
    "to publish quarterly progress reports.",
    "Local businesses welcomed the news, with the chamber of commerce saying it could create "
    "around {n2} jobs in {place} and the surrounding villages.",
    "{person} told reporters that the timetable was {adj}, but that {org} had learned from the "
    "mistakes made with {topic2} a decade ago.",
    "Environmental groups asked for an independent assessment of the impact on the wetlands "
    "north of {place} before any construction begins.",
    "A spokesperson for {org} declined to comment on the legal challenge lodged on {day}, "
    "citing the ongoing proceedings.",
    "The vote passed by {k} to {k2}, with several members abstaining after a debate that lasted "
    "late into the evening.",
]  # fmt: skip
ADJECTIVES = ["overdue", "ambitious", "reckless", "sensible", "premature", "historic", "modest"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November"]


@dataclass(frozen=True)
class Story:
    number: int
    title: str
    paragraphs: list[str]
    question: str

    @property
    def slug(self) -> str:
        return f"story-{self.number:05d}"


def make_story(number: int) -> Story:
    """One article, the same for the same number on every run (4-6 kB of text)."""
    rng = random.Random(number)
    place, place2 = rng.sample(PLACES, 2)
    org = rng.choice(ORGS)
    topic, topic2 = rng.sample(TOPICS, 2)

    def sentence() -> str:
        text = rng.choice(SENTENCES).format(
            Org=org[0].upper() + org[1:],
            org=org,
            place=place,
            place2=place2,
            topic=topic,
            topic2=topic2,
            person=rng.choice(PEOPLE),
            day=rng.choice(DAYS),
            month=rng.choice(MONTHS),
            adj=rng.choice(ADJECTIVES),
            n=rng.randint(3, 900),
            n2=rng.randint(120, 9000),
            pct=rng.randint(4, 71),
            k=rng.randint(12, 40),
            k2=rng.randint(2, 11),
        )
        return text[0].upper() + text[1:]

    target = rng.randint(4000, 6000)
    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < target:
        paragraphs.append(" ".join(sentence() for _ in range(rng.randint(2, 4))))
    verb = rng.choice(VERBS)
    title = f"{org[0].upper() + org[1:]} {verb} {topic} in {place} ({number})"
    return Story(number, title, paragraphs, f"What did {org} decide about {topic} in {place}?")


def page_html(story: Story, site: str) -> bytes:
    """A realistic article page: menus, cookie banner, the article, related links, footer."""
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in story.paragraphs)
    menu = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in ("World", "Local", "Sport"))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(story.title)} | {site}</title>
<meta property="og:site_name" content="{site}"><meta property="og:title"
 content="{html.escape(story.title)}"><meta name="author" content="Newsroom staff">
<meta property="article:published_time" content="2025-06-10T09:00:00+00:00">
<style>body{{font-family:serif}} .cookie{{position:fixed}}</style></head><body>
<header><a href="/">{site}</a><nav><ul>{menu}</ul></nav></header>
<div class="cookie">We use cookies to improve your experience. Accept all cookies?</div>
<main><article><h1>{html.escape(story.title)}</h1><p class="byline">By Newsroom staff</p>
{body}</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Weather warning for the weekend</a></li>
<li><a href="/b">Five things to do this summer</a></li></ul></aside>
<footer><p>© 2025 {site}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>""".encode()


def feed_xml(stories: list[Story], base: str, full: set[int], title: str) -> bytes:
    items = []
    for story in stories:
        link = f"{base}/news/{story.slug}"
        teaser = html.escape(story.paragraphs[0].split(". ")[0] + ".")
        content = ""
        if story.number in full:
            encoded = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
            content = f"<content:encoded><![CDATA[{encoded}]]></content:encoded>"
        items.append(
            f"<item><title>{html.escape(story.title)}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>Tue, 10 Jun 2025 09:00:00 GMT</pubDate>"
            f"<description>{teaser}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{title}</title><link>{base}/</link>{''.join(items)}</channel></rss>"
    ).encode()


# --- local servers ----------------------------------------------------------------------------


class Site:
    """One local web server (one host) serving feeds and article pages from memory."""

    def __init__(self, host: str) -> None:
        self.pages: dict[str, tuple[bytes, str]] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                body, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_sites(count: int) -> list[Site]:
    """One server per loopback address (127.0.0.N), so the poller sees separate hosts."""
    sites: list[Site] = []
    for n in range(1, count + 1):
        try:
            sites.append(Site(f"127.0.0.{n}"))
        except OSError:  # only 127.0.0.1 is configured (macOS): one host it is
            break
    return sites or [Site("127.0.0.1")]


def publish(stories: list[Story], sites: list[Site], feeds: int, full_share: float) -> list[str]:
    """Spread the stories over `feeds` feeds on the sites; returns the feed URLs."""
    rng = random.Random(0)
    full = {s.number for s in stories if rng.random() < full_share}
    urls = []
    for f in range(feeds):
        site = sites[f % len(sites)]
        mine = stories[f::feeds]
        for story in mine:
            site.pages[f"/news/{story.slug}"] = (page_html(story, f"Site {f}"), "text/html")
        site.pages[f"/feed-{f}.xml"] = (
            feed_xml(mine, site.base, full, f"Feed {f}"),
            "application/rss+xml",
        )
        urls.append(f"{site.base}/feed-{f}.xml")
    return urls


# --- measuring --------------------------------------------------------------------------------


def timed_answers(index: NewsIndex, questions: list[str]) -> list[float]:
    latencies = []
    for question in questions:
        started = time.perf_counter()
        index.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def latencies_under_ingest(
    index: NewsIndex, questions: list[str], first_number: int
) -> tuple[list[float], int]:
    """Ask every question while a thread keeps ingesting fresh batches of articles."""
    stop = threading.Event()
    busy = threading.Event()
    batches = 0

    def ingest_forever() -> None:
        nonlocal batches
        number = first_number
        while not stop.is_set():
            stories = [make_story(n) for n in range(number, number + 16)]
            number += 16
            articles = [
                Article(
                    title=s.title,
                    body="\n\n".join(s.paragraphs),
                    url=f"https://load.example.test/{s.slug}",
                    source="Load",
                )
                for s in stories
            ]
            busy.set()
            index.ingest(articles)
            batches += 1

    def run() -> None:
        try:
            ingest_forever()
        finally:
            busy.set()  # never leave the questions waiting for an ingest that died

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    busy.wait()
    try:
        latencies = timed_answers(index, questions)
    finally:
        stop.set()
        worker.join()
    return latencies, batches


def load_questions(count: int, stories: list[Story]) -> tuple[list[str], str]:
    if MULTIHOP.exists():
        queries = json.loads(MULTIHOP.read_text(encoding="utf-8"))
        return [q["query"] for q in queries[:count]], f"MultiHop-RAG ({MULTIHOP})"
    generated = [stories[i % len(stories)].question for i in range(count)]
    return generated, "generated from the feed items"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=500, help="feed items (default 500)")
    parser.add_argument("--questions", type=int, default=100, help="questions per latency run")
    parser.add_argument("--feeds", type=int, default=10, help="feeds the items are spread over")
    parser.add_argument("--hosts", type=int, default=4, help="local servers (127.0.0.N)")
    parser.add_argument("--full-share", type=float, default=0.5, help="items with full text")
    parser.add_argument("--workers", type=int, default=4, help="FeedPoller threads")
    parser.add_argument("--ingest-threads", type=int, default=serving_ingest_threads(),
                        help="torch threads for ingest (default as serve; 0: all)")  # fmt: skip
    args = parser.parse_args()
    share_the_interpreter()  # as the bot does (`build_application`)

    stories = [make_story(n) for n in range(args.items)]
    sites = start_sites(args.hosts)
    feed_urls = publish(stories, sites, max(1, min(args.feeds, args.items)), args.full_share)
    page_kb = [len(page_html(s, "Site")) / 1024 for s in stories]
    print(
        f"{args.items} items in {len(feed_urls)} feeds on {len(sites)} host(s); "
        f"pages {min(page_kb):.1f}-{max(page_kb):.1f} kB"
    )

    with tempfile.TemporaryDirectory() as tmp:
        # as `newsbot serve` opens it: questions and ingests get a model each, ingest fewer cores
        index = NewsIndex(Path(tmp) / "data", create=True, ingest_threads=args.ingest_threads)
        index.questions.encode_question("warm up the model", [])
        index.ingest_embedder.encode(["warm up the model"])
        feedlist = FeedList(Path(tmp) / "data" / "feeds.sqlite")
        for url in feed_urls:
            feedlist.add(url)

        ingest_seconds = 0.0
        real_ingest = index.ingest

        def timed_ingest(*a: object, **k: object):  # type: ignore[no-untyped-def]
            nonlocal ingest_seconds
            started = time.perf_counter()
            try:
                return real_ingest(*a, **k)  # type: ignore[arg-type]
            finally:
                ingest_seconds += time.perf_counter() - started

        index.ingest = timed_ingest  # type: ignore[method-assign]
        with FeedPoller(feedlist, index, max_workers=args.workers) as poller:
            started = time.perf_counter()
            report = poller.poll_all()
            seconds = time.perf_counter() - started
        index.ingest = real_ingest  # type: ignore[method-assign]
        chunks = index.stats().chunks
        print(report.summary())
        for line in report.lines():
            if "FAILED" in line or "warning" in line:
                print(f"  {line}")
        print(
            f"feed -> searchable: {report.new / seconds * 60:,.0f} articles/min "
            f"({report.new} articles, {chunks} chunks in {seconds:.1f} s; "
            f"{ingest_seconds:.1f} s of it chunking+embedding+commit)"
        )

        sample = stories[: args.questions]
        hits = 0
        for story in sample:
            answer = index.answer(story.question, top=3)
            hits += any(c.url and c.url.endswith(story.slug) for c in answer.citations)
        print(f"searchable check: {hits}/{len(sample)} generated questions cite their article")

        questions, origin = load_questions(args.questions, stories)
        print(f"questions: {len(questions)} {origin}")
        timed_answers(index, questions[:3])  # warm caches
        idle = timed_answers(index, questions)
        busy, batches = latencies_under_ingest(index, questions, args.items + 100_000)
        for label, values in (("idle", idle), ("during ingest", busy)):
            print(
                f"question latency {label:14s} p50 {percentile(values, 50):7.1f} ms   "
                f"p99 {percentile(values, 99):7.1f} ms   max {max(values):7.1f} ms"
            )
        print(f"({batches} ingest batches of 16 articles ran during the questions)")
        index.close()
    for site in sites:
        site.close()


if __name__ == "__main__":
    main()
