"""Live news from RSS/Atom feeds (no Telegram here):

* `registry`: the feeds followed and their polling state (`FeedList`, `DATA_DIR/feeds.sqlite`);
* `defaults`: the settings' default feeds, each followed once;
* `poller`: `FeedPoller`, every feed polled politely and what is new ingested;
* `reports`: what a poll did, per feed and in total;
* `polling`: `FeedPolling`, a running program's poller and its last report.

Reading one feed (fetch, parse, full text) is `corpus.loaders.feeds`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.feeds.defaults import ensure_default_feeds
    from services.feeds.poller import FeedPoller
    from services.feeds.polling import FeedPolling
    from services.feeds.registry import Feed, FeedList, normalise_feed_url
    from services.feeds.reports import FeedResult, PollReport

# Imported on first use: the feed list alone (`newsbot stats`, `feeds list`) does not need
# the poller's HTTP client, feed parser and article extractor.
_HOMES = {
    "Feed": "registry",
    "FeedList": "registry",
    "normalise_feed_url": "registry",
    "FeedPoller": "poller",
    "FeedPolling": "polling",
    "FeedResult": "reports",
    "PollReport": "reports",
    "ensure_default_feeds": "defaults",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "Feed",
    "FeedList",
    "FeedPoller",
    "FeedPolling",
    "FeedResult",
    "PollReport",
    "ensure_default_feeds",
    "normalise_feed_url",
]
