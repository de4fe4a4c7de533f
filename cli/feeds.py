"""`newsbot feeds ...` and `newsbot ingest URL`: the feed list and live news from a terminal.

Exit codes: 0 done, 1 done but something failed (or nothing to do), 2 bad input.
The feed list lives next to the index, in `DATA_DIR/feeds.sqlite` (`services.paths`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cli.common import error as _error
from corpus.loaders.opml import read_opml, write_opml
from db.sqlite import ReadOnlyStore
from index.service import IngestReport
from services import paths
from services.feeds.registry import Feed
from services.feeds.reports import PollReport
from services.paths import feed_list
from services.settings import Settings

# argparse's `type=Path` folds "https://host" into "https:/host"; both spellings count.
_URL = re.compile(r"^(https?):/+", re.IGNORECASE)


def is_url(path: str | Path) -> bool:
    """True for an http(s) address, also after `Path()` has folded its double slash."""
    return bool(_URL.match(str(path)))


def _as_url(path: str | Path) -> str:
    return _URL.sub(lambda m: f"{m.group(1).lower()}://", str(path), count=1)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


# -- commands -------------------------------------------------------------------------------


def cmd_feeds_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with feed_list(settings) as registry:
            feed, created = registry.add(args.url, args.name)
    except ValueError as exc:
        _error(str(exc))
        return 2
    if created:
        print(f"following #{feed.id} {feed.url}; run `newsbot feeds poll` to fetch it now")
    else:
        print(f"already following #{feed.id} {feed.url}")
    return 0


def cmd_feeds_list(args: argparse.Namespace, settings: Settings) -> int:
    with feed_list(settings) as registry:
        try:
            feeds = registry.list()
        except ReadOnlyStore:  # no feed list yet, and a read-only folder cannot hold one
            feeds = []
    if args.json:
        print(json.dumps([_feed_dict(f) for f in feeds], indent=2))
        return 0
    if not feeds:
        print("no feeds followed; add one with `newsbot feeds add URL`")
        return 0
    for feed in feeds:
        print(f"#{feed.id} {feed.name or '(no name)'}  {feed.url}")
        print(
            f"    last fetch {_when(feed.last_fetch_at)}, "
            f"last new article {_when(feed.last_new_article_at)}, "
            f"{feed.articles_seen} articles so far"
        )
        if feed.last_error:
            streak = f"{feed.error_count} failure{'s' if feed.error_count != 1 else ''} in a row"
            print(f"    ERROR ({streak}): {feed.last_error}")
    return 0


def _feed_dict(feed: Feed) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": feed.id,
        "url": feed.url,
        "name": feed.name,
        "added_at": iso(feed.added_at),
        "last_fetch_at": iso(feed.last_fetch_at),
        "last_new_article_at": iso(feed.last_new_article_at),
        "articles_seen": feed.articles_seen,
        "last_error": feed.last_error,
        "error_count": feed.error_count,
    }


def cmd_feeds_remove(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with feed_list(settings) as registry:
            removed = registry.remove(args.feed.strip().removeprefix("#"))  # "#3" too
    except ValueError as exc:
        _error(f"{exc} (give a feed's URL or its #id from `newsbot feeds list`)")
        return 2
    if not removed:
        _error(f"not following {args.feed}; see `newsbot feeds list`")
        return 1
    print(f"stopped following {args.feed} (its articles stay in the index)")
    return 0


def cmd_feeds_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        entries = read_opml(args.opml)
    except (OSError, ValueError) as exc:
        _error(f"cannot import {args.opml}: {exc}")
        return 2
    added = already = 0
    invalid: list[str] = []
    with feed_list(settings) as feeds:
        for url, name in entries:
            try:
                _, created = feeds.add(url, name)
            except ValueError as exc:
                invalid.append(str(exc))
                continue
            added += created
            already += not created
    for reason in invalid:
        print(f"skipped: {reason}", file=sys.stderr)
    print(
        f"imported {args.opml}: {added} added, {already} already followed, {len(invalid)} skipped"
    )
    if not entries:
        _error(f"{args.opml} lists no feeds (no <outline xmlUrl=...>)")
        return 1
    return 1 if invalid and not (added or already) else 0


def cmd_feeds_export(args: argparse.Namespace, settings: Settings) -> int:
    with feed_list(settings) as registry:
        feeds = registry.list()
    sys.stdout.write(write_opml((f.url, f.name) for f in feeds))
    return 0


def cmd_feeds_poll(args: argparse.Namespace, settings: Settings) -> int:
    from services.feeds.poller import FeedPoller  # HTTP, feed parsing, full text: only here

    with feed_list(settings) as feeds:
        if not feeds.list() and not args.every:
            _error("no feeds followed; add one with `newsbot feeds add URL`")
            return 1
        index = paths.open_index(settings, create=True)
        try:
            with FeedPoller(feeds, index, fetch_full_text=not args.no_full_text) as poller:
                while True:
                    with feeds.polling_turn() as mine:  # bot workers may share the list
                        report = poller.poll_all() if mine else PollReport(elsewhere=True)
                    for line in report.lines():
                        print(f"  {line}")
                    print(report.summary(), flush=True)
                    if not args.every:
                        break
                    time.sleep(args.every * 60)
        except KeyboardInterrupt:
            return 0
        finally:
            index.close()
    return 1 if report.feeds and report.failed == len(report.feeds) else 0


def ingest_urls(urls: Iterable[str | Path], settings: Settings) -> int:
    """`newsbot ingest URL...`: fetch each page, extract its article, ingest it."""
    from services.feeds.poller import FeedPoller

    given = list(urls)
    not_urls = [str(u) for u in given if not is_url(u)]
    if not_urls:
        _error(
            f"not a web address: {', '.join(not_urls)} "
            "(ingest files and URLs with separate commands)"
        )
        return 2
    index = paths.open_index(settings, create=True)
    total = IngestReport()
    try:
        with feed_list(settings) as feeds, FeedPoller(feeds, index) as poller:
            for url in map(_as_url, given):
                try:
                    report = poller.ingest_url(url)
                except ValueError as exc:
                    print(f"skipped {exc}", file=sys.stderr)
                    total.failed += 1
                    continue
                print(f"{url}: {_outcome(report)}")
                for name in ("new", "updated", "unchanged", "duplicates", "chunks"):
                    setattr(total, name, getattr(total, name) + getattr(report, name))
                total.seconds += report.seconds
    finally:
        index.close()
    print(f"ingested into {settings.data_dir}: {total.summary()}")
    return 1 if total.failed else 0


def _outcome(report: IngestReport) -> str:
    if report.new:
        return "added"
    if report.updated:
        return "updated"
    if report.duplicates:
        return "same text as an article already indexed; skipped"
    return "already indexed, unchanged"


# -- argparse -------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `newsbot feeds add|list|remove|import|export|poll` on the main parser."""
    feeds = sub.add_parser(
        "feeds",
        help="the RSS/Atom feeds the bot follows",
        description="Follow, list, remove, import, export and poll the RSS/Atom feeds that "
        "the bot polls every FEED_POLL_MINUTES while it runs.",
    )
    commands = feeds.add_subparsers(dest="feeds_command", required=True, metavar="COMMAND")

    p = commands.add_parser("add", help="follow a feed", description="Follow a feed")
    p.add_argument("url")
    p.add_argument("--name", help="outlet name shown in answers (default: the feed's title)")
    p.set_defaults(func=cmd_feeds_add)

    p = commands.add_parser(
        "list",
        help="followed feeds, last fetch, last new article, errors",
        description="Followed feeds, last fetch, last new article, errors",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_feeds_list)

    p = commands.add_parser(
        "remove",
        help="stop following a feed (by URL or #id)",
        description="Stop following a feed (by URL or #id)",
    )
    p.add_argument("feed", metavar="URL_OR_ID")
    p.set_defaults(func=cmd_feeds_remove)

    p = commands.add_parser(
        "import",
        help="follow every feed in an OPML file",
        description="Follow every feed in an OPML file",
    )
    p.add_argument("opml", metavar="OPML_FILE", type=Path)
    p.set_defaults(func=cmd_feeds_import)

    p = commands.add_parser(
        "export",
        help="write the feed list as OPML to stdout",
        description="Write the feed list as OPML to stdout",
    )
    p.set_defaults(func=cmd_feeds_export)

    p = commands.add_parser(
        "poll",
        help="fetch every feed once now and ingest what is new",
        description="Fetch every feed once now and ingest what is new",
    )
    p.add_argument(
        "--no-full-text", action="store_true", help="index teasers as they are; fetch no pages"
    )
    p.add_argument(
        "--every",
        type=float,
        metavar="MINUTES",
        help="keep polling this often (an ingest worker beside bot workers with FEED_POLLING "
        "off); Ctrl-C stops",
    )
    p.set_defaults(func=cmd_feeds_poll)
