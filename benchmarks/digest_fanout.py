"""Digest fan-out: N private chats whose daily digests all fall due in the same minute.

Usage:
    python benchmarks/digest_fanout.py [--chats 1000] [--articles 30] [--topics 10]
        [--topic-share 0.5] [--data ../shared/newsdata] [--index-dir DIR]

Runs the very application `newsbot serve` runs (`build_application`, its `AIORateLimiter` at
Telegram's 30 messages/s) against the local Bot API emulator with `flood_limits=True` (it answers
429 past 30 messages/s overall or 3/s per private chat, as Telegram does). `--chats` private
chats each get one subscription, spread over several time zones but all due at the same UTC
instant; `--topic-share` of them have one of `--topics` topics, the rest none. The articles are
the first `--articles` of ../shared/newsdata/corpus.json (synthetic ones when it is absent),
ingested an hour before the digests are due.

The clock is set to the due instant and one scheduler tick (`bot.digests.run_tick`) is run, so
the figures start at the due time. In production the tick comes round every
DIGEST_TICK_SECONDS (30 s by default): add up to that much to the delays.

Prints: time to build and send every digest (the tick), the delay from the due time to the first,
median and last digest sent, the number of distinct digests built, messages sent, and the 429s
the emulator gave. Quick check: python benchmarks/digest_fanout.py --chats 50 (the first run
embeds the articles, ~1 min on 2 CPUs; pass --index-dir DIR to build once and reuse it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
from measure import emulator_settings, percentile

from bot.app import RATE_LIMITER_OPTIONS, build_application
from bot.digests import JOB_NAME, run_tick
from corpus.loaders import load_path
from corpus.models import Article
from emulator import ApiCall, BotApiEmulator
from index import NewsIndex
from index.embedder import Embedder
from services.subscriptions import SubscriptionStore

ROOT = Path(__file__).resolve().parent.parent
FIRST_CHAT = 10_000
DUE = datetime(2025, 1, 15, 7, 30, tzinfo=UTC)  # no daylight-saving change near it
ZONES = ("UTC", "Europe/Istanbul", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
TOPICS = (
    "artificial intelligence",
    "stock market",
    "football",
    "cryptocurrency",
    "climate change",
    "election",
    "smartphone",
    "movie",
    "interest rates",
    "video games",
    "basketball",
    "electric cars",
)


def synthetic_articles(count: int) -> list[Article]:
    subjects = ("football", "stock market", "election", "smartphone", "climate change", "movie")
    return [
        Article(
            title=f"Report {n}: news about {subjects[n % len(subjects)]} in city {n}",
            body=(
                f"Officials in city {n} said on Monday that the {subjects[n % len(subjects)]} "
                f"story number {n} was developing quickly. Residents reacted with surprise, and "
                f"analysts expect more announcements about {subjects[n % len(subjects)]} soon."
            ),
            source=f"Outlet {n % 7}",
            url=f"https://outlet{n % 7}.example/{n}",
            published_at=datetime(2024, 6, 1, tzinfo=UTC),
        )
        for n in range(count)
    ]


def open_index(args: argparse.Namespace, tmp: str) -> NewsIndex:
    index_dir = args.index_dir or Path(tmp) / "data"
    index = NewsIndex(index_dir, create=True, embedder=Embedder())
    corpus = args.data / "corpus.json"
    if corpus.exists():
        articles = load_path(corpus).articles[: args.articles]
    else:
        print(f"{corpus} not found: using synthetic articles")
        articles = synthetic_articles(args.articles)
    started = time.perf_counter()
    index.ingest(articles, now=DUE - timedelta(hours=1))
    stats = index.stats()
    print(
        f"index: {stats.articles} articles, {stats.chunks} chunks in {index_dir} "
        f"({time.perf_counter() - started:.1f} s to build or check)"
    )
    return index


def subscribe_all(store: SubscriptionStore, chats: list[int], args: argparse.Namespace) -> None:
    """One subscription per chat, in several zones, every one due at DUE (UTC)."""
    topics = TOPICS[: args.topics]
    with_topic = round(len(chats) * args.topic_share) if topics else 0
    for number, chat_id in enumerate(chats):
        zone = ZONES[number % len(ZONES)]
        hhmm = DUE.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        topic = topics[number % len(topics)] if number < with_topic else None
        store.add(
            chat_id,
            hhmm=hhmm,
            tz=zone,
            topic=topic,
            created_by=chat_id,
            now=DUE - timedelta(hours=12),  # yesterday's occurrence predates it
        )


async def run(index: NewsIndex, args: argparse.Namespace) -> None:
    chats = [FIRST_CHAT + n for n in range(args.chats)]
    async with BotApiEmulator(flood_limits=True) as emulator:
        for chat_id in chats:
            emulator.add_chat(chat_id)
        # when each message reached the emulator (the call log has no times of its own)
        sent_at: list[tuple[float, ApiCall]] = []
        record = emulator._record

        def timed_record(call: ApiCall) -> None:
            sent_at.append((time.perf_counter(), call))
            record(call)

        emulator._record = timed_record  # type: ignore[method-assign]

        settings = emulator_settings(emulator, index)
        app = build_application(settings, index)
        app.bot_data.clock = lambda: DUE
        store: SubscriptionStore = app.bot_data.subscriptions
        for chat_id in chats:  # a reused --index-dir keeps the last run's subscriptions
            store.remove_all(chat_id)
        subscribe_all(store, chats, args)
        async with app:
            await app.post_init(app)
            for job in app.job_queue.get_jobs_by_name(JOB_NAME):
                job.schedule_removal()  # one tick, run below at a known instant
            await app.start()
            try:
                mark = len(sent_at)
                started = time.perf_counter()
                report = await run_tick(app)
                elapsed = time.perf_counter() - started
            finally:
                await app.stop()

    sends = [(t - started, c) for t, c in sent_at[mark:] if c.method == "sendMessage"]
    delivered = [t for t, c in sends if c.ok]
    per_chat = Counter(c.params["chat_id"] for _, c in sends if c.ok)
    first_message = {}
    for t, c in sends:
        if c.ok:
            first_message.setdefault(c.params["chat_id"], t)
    firsts = list(first_message.values())
    flood = sum(1 for _, c in sends if c.status == 429)
    limit = RATE_LIMITER_OPTIONS["overall_max_rate"] / RATE_LIMITER_OPTIONS["overall_time_period"]
    print(f"\n{args.chats} private chats, every digest due at {DUE:%H:%M} UTC")
    print(f"  rate limiter                 {limit:g} messages/s overall (AIORateLimiter)")
    print(
        f"  tick: due {report.due}, sent {report.sent}, failed {report.failed}, "
        f"paused {report.paused}, empty {report.empty}"
    )
    print(f"  distinct digests built       {report.built}")
    print(f"  build + send, whole tick     {elapsed:7.2f} s")
    print(
        f"  due time -> digest in chat   first {min(firsts):.2f} s   "
        f"median {statistics.median(firsts):.2f} s   p99 {percentile(firsts, 99):.2f} s   "
        f"last {max(delivered):.2f} s"
    )
    print(
        f"  messages sent                {len(delivered)} "
        f"({len(delivered) / max(elapsed, 1e-9):.1f}/s; "
        f"{max(per_chat.values(), default=0)} at most per chat)"
    )
    print(f"  429 answers from emulator    {emulator.flood_rejections} (sendMessage: {flood})")
    missing = [c for c in chats if c not in per_chat]
    if missing or report.failed:
        print(f"  MISSING digests: {len(missing)} chats, e.g. {missing[:5]}")
    print(
        f"  (+ up to DIGEST_TICK_SECONDS={settings.digest_tick_seconds:g} s until the tick "
        "comes round after the due minute)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=1000, help="private chats, one digest each")
    parser.add_argument("--articles", type=int, default=30, help="articles in the index")
    parser.add_argument(
        "--topics", type=int, default=10, help=f"distinct topics (<= {len(TOPICS)})"
    )
    parser.add_argument("--topic-share", type=float, default=0.5, help="share with a topic")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--index-dir", type=Path, help="index to build or reuse (default: temp)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(args, tmp)
        try:
            asyncio.run(run(index, args))
        finally:
            index.close()


if __name__ == "__main__":
    main()
