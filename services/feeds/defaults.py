"""The default feeds of the settings (`NEWSBOT_FEEDS`), each followed once, never again."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from services.feeds.registry import Feed, FeedList, normalise_feed_url

log = logging.getLogger(__name__)


def ensure_default_feeds(feedlist: FeedList, urls: Iterable[str]) -> list[Feed]:
    """Follow each default feed the first time it appears in the settings, never again.

    Which defaults were seeded is kept in the feed list's own database, per URL: a default the
    admin removed stays removed across restarts, while a default added to the settings later
    is still picked up. Returns the feeds added now; an invalid URL is logged and skipped.
    """
    seeded = feedlist.seeded_defaults()
    added: list[Feed] = []
    for raw in urls:
        try:
            url = normalise_feed_url(raw)
        except ValueError as exc:
            log.warning("default feed skipped: %s", exc)
            continue
        if url in seeded:
            continue
        feed, created = feedlist.add(url)
        if created:
            added.append(feed)
        feedlist.mark_seeded([url])
        seeded.add(url)
    return added
