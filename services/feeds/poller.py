"""Move followed feeds into the index: poll each once, fetch only what is new, ingest, record.

The application-layer service behind the bot's polling job, `/stats` and `newsbot feeds poll`.
It never raises for a feed's trouble (DNS, timeout, HTTP 500, broken XML): that is a logged
warning and an error recorded in the feed list, and the other feeds still land.

Each feed is fetched with `corpus.loaders.feeds.poll_feed` (a known teaser-only entry's page
is never fetched again; an entry that carries its full text is compared with the index by
content hash, so a corrected story replaces the old). The poller adds one request at a time
per host across feed *and* page fetches, batching of ingests, and a memory of teasers whose
page repeated an indexed article.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from corpus.loaders.feeds import FeedPoll, poll_feed
from corpus.loaders.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT
from corpus.loaders.web import fetch_article
from corpus.models import Article
from index.service import IngestReport, NewsIndex
from services.feeds.registry import Feed, FeedList
from services.feeds.reports import FeedResult, PollReport

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Articles gathered from finished feeds before they are embedded in one go: one FAISS
# generation per batch instead of one per feed, while the remaining feeds are still fetched.
INGEST_BATCH = 200


# --- the poller -----------------------------------------------------------------------------


@dataclass
class _Pending:
    """A polled feed whose articles wait for the next ingest batch."""

    feed: Feed
    result: FeedResult
    poll: FeedPoll


class FeedPoller:
    """Polls every followed feed once per `poll_all`, politely, and ingests what is new.

    Politeness: conditional GETs (ETag / Last-Modified), one request at a time per host (feeds
    on different hosts are fetched by a small thread pool), and a teaser's linked page is
    fetched once: an entry already indexed is never fetched again.
    """

    def __init__(
        self,
        feedlist: FeedList,
        index: NewsIndex,
        *,
        client: httpx.Client | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        fetch_full_text: bool = True,
        clock: Clock = lambda: datetime.now(UTC),
        max_workers: int = 4,
        ingest_batch: int = INGEST_BATCH,
    ) -> None:
        self.feedlist = feedlist
        self.index = index
        self._own_client = client is None
        self.client = client if client is not None else httpx.Client()
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.fetch_full_text = fetch_full_text
        self.clock = clock
        self.max_workers = max(1, max_workers)
        self.ingest_batch = max(1, ingest_batch)
        self._host_locks: dict[str, threading.Lock] = {}
        self._host_locks_guard = threading.Lock()
        self._poll_lock = threading.Lock()
        # Teaser entries whose page turned out to repeat an indexed article: not refetched
        # while this process runs (they are not in the index, so the index cannot tell).
        self._duplicate_ids: set[str] = set()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> FeedPoller:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------

    def poll_all(self) -> PollReport:
        """Fetch every followed feed once, ingest the new and changed articles, record state.

        Polls do not overlap: a second caller waits for the running poll, then polls (cheaply:
        mostly 304s). Feed failures are in the report; only a broken feed list raises.
        """
        with self._poll_lock:
            started = time.perf_counter()
            report = PollReport(started_at=self.clock())
            feeds = self.feedlist.list()
            if not feeds:
                return report
            results: dict[int, FeedResult] = {}
            done: queue.Queue[tuple[Feed, FeedResult, FeedPoll]] = queue.Queue()
            groups = _by_host(feeds)
            pending: list[_Pending] = []
            workers = min(self.max_workers, len(groups))
            with ThreadPoolExecutor(workers, thread_name_prefix="feed-poll") as pool:
                for group in groups:
                    pool.submit(self._poll_group, group, done)
                for _ in feeds:  # every feed yields exactly one item, failures included
                    feed, result, poll = done.get()
                    results[feed.id] = result
                    if self._settle(feed, result, poll):
                        pending.append(_Pending(feed, result, poll))
                    if sum(len(p.poll.articles) for p in pending) >= self.ingest_batch:
                        self._ingest(pending)
                        pending = []
            if pending:
                self._ingest(pending)
            report.feeds = [results[f.id] for f in feeds]
            report.seconds = time.perf_counter() - started
            log.info("feed poll: %s", report.summary())
            return report

    def ingest_url(self, url: str) -> IngestReport:
        """Fetch one web page, extract its article and ingest it.

        Raises ValueError (with the reason) when the page cannot be fetched or holds no article.
        """
        with self._host(url):
            article = fetch_article(
                url, self.client, max_bytes=self.max_bytes, timeout=self.timeout
            )
        return self.index.ingest([article], now=self.clock())

    # -- fetching (worker threads) -----------------------------------------------------------

    def _poll_group(
        self, feeds: list[Feed], done: queue.Queue[tuple[Feed, FeedResult, FeedPoll]]
    ) -> None:
        for feed in feeds:
            result = FeedResult(url=feed.url, name=feed.name, feed_id=feed.id)
            try:
                poll = self._poll_feed(feed, result)
            except Exception as exc:  # a bug or library surprise must not stop the other feeds
                log.exception("polling %s failed unexpectedly", feed.url)
                poll = FeedPoll(url=feed.url, etag=feed.etag, last_modified=feed.last_modified)
                poll.error = f"{type(exc).__name__}: {exc}"
            done.put((feed, result, poll))

    def _poll_feed(self, feed: Feed, result: FeedResult) -> FeedPoll:
        """One feed, the corpus loader's way; known entries checked against the index."""
        poll = poll_feed(
            feed.url,
            client=self.client,
            etag=feed.etag,
            last_modified=feed.last_modified,
            name=feed.name,
            fetch_full_text=self.fetch_full_text,
            known_ids=self._duplicate_ids,
            indexed=self.index.store.hashes,
            polite=self._host,
            max_bytes=self.max_bytes,
            timeout=self.timeout,
        )
        result.unchanged += poll.unchanged
        if not result.name:
            result.name = poll.feed_title
        return poll

    @contextmanager
    def _host(self, url: str) -> Iterator[None]:
        """One request at a time per host, whichever feed or thread asks."""
        host = (urlsplit(url).hostname or "").lower()
        with self._host_locks_guard:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            yield

    # -- recording and ingesting (the polling thread) ----------------------------------------

    def _settle(self, feed: Feed, result: FeedResult, poll: FeedPoll) -> bool:
        """Record a feed that needs no ingest; True when its articles wait for one."""
        result.not_modified = poll.not_modified
        result.name = result.name or poll.feed_title
        result.warnings = [str(w) for w in poll.warnings]
        if poll.error:
            result.error = poll.error
            log.warning("feed %s failed: %s", feed.url, poll.error)
            self._record_failure(feed, poll.error)
            return False
        result.warnings += [str(e) for e in poll.errors]  # recovered XML, skipped entries
        for warning in result.warnings:
            log.warning("feed %s: %s", feed.url, warning)
        if not poll.articles:
            self._record_success(feed, poll, 0)
            return False
        return True

    def _ingest(self, pending: list[_Pending]) -> None:
        """Embed a batch of polled feeds' articles, attribute the outcome to each feed, and only
        then store their validators, so a failed ingest is fetched again in full next time."""
        owners: dict[str, FeedResult] = {}
        articles: list[Article] = []
        for item in pending:
            for article in item.poll.articles:
                if article.id in owners:  # the same URL in two feeds: the first one has it
                    item.result.duplicates += 1
                    continue
                owners[article.id] = item.result
                articles.append(article)
        ids = [a.id for a in articles]
        before = self.index.store.hashes(ids)
        try:
            report = self.index.ingest(articles, now=self.clock())
        except Exception as exc:
            log.exception("ingesting %d polled articles failed", len(articles))
            for item in pending:
                item.result.error = f"index: {exc}"
                self._record_failure(item.feed, item.result.error)
            return
        after = self.index.store.hashes(ids)
        new_ids = set(report.new_ids)
        for article in articles:
            result = owners[article.id]
            stored = after.get(article.id) == article.content_hash
            if article.id in new_ids:
                result.new += 1
            elif stored and article.id in before:
                result.updated += 1
            elif stored:
                result.unchanged += 1  # another writer got there first
            else:  # same text as an article already indexed under another URL
                result.duplicates += 1
                self._duplicate_ids.add(article.id)
        for item in pending:
            self._record_success(item.feed, item.poll, item.result.new)

    def _record_success(self, feed: Feed, poll: FeedPoll, new_articles: int) -> None:
        try:
            self.feedlist.record_success(
                feed.id,
                etag=poll.etag,
                last_modified=poll.last_modified,
                new_articles=new_articles,
                at=self.clock(),
            )
        except sqlite3.Error:
            log.exception("could not record the poll of %s", feed.url)

    def _record_failure(self, feed: Feed, error: str) -> None:
        try:
            self.feedlist.record_failure(feed.id, error, at=self.clock())
        except sqlite3.Error:
            log.exception("could not record the failure of %s", feed.url)


def _by_host(feeds: Iterable[Feed]) -> list[list[Feed]]:
    """Feeds grouped by host, so one worker fetches one host's feeds one after another."""
    groups: dict[str, list[Feed]] = {}
    for feed in feeds:
        groups.setdefault((urlsplit(feed.url).hostname or "").lower(), []).append(feed)
    return list(groups.values())
