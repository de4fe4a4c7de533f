"""Live news from RSS/Atom feeds (no Telegram here):

* `registry`: the feeds followed and their polling state (`FeedList`, `DATA_DIR/feeds.sqlite`);
* `defaults`: the settings' default feeds, each followed once;
* `poller`: `FeedPoller`, every feed polled politely and what is new ingested;
* `reports`: what a poll did, per feed and in total;
* `polling`: `FeedPolling`, a running program's poller and its last report.

Reading one feed (fetch, parse, full text) is `corpus.loaders.feeds`.
"""

from services.feeds.defaults import ensure_default_feeds
from services.feeds.poller import FeedPoller
from services.feeds.polling import FeedPolling
from services.feeds.registry import Feed, FeedList, normalise_feed_url
from services.feeds.reports import FeedResult, PollReport

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
