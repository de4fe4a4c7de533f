"""Question-to-reply latency of the Telegram bot, next to the bare `NewsIndex.answer` latency.

Usage:
    python benchmarks/bot_latency.py [--data ../shared/newsdata] [--index-dir DIR]
        [--questions 200] [--chats 50] [--articles N] [--answer-articles 3]

Builds (or reuses, with --index-dir) an index of the MultiHop-RAG corpus.json, runs the very
application `newsbot serve` runs (`build_application`, rate limiter and all) against the local
Bot API emulator over HTTP, and prints:
  * bare `NewsIndex.answer` latency, p50/p99, for the same questions with the same `top`;
  * question-to-reply latency (user message injected -> first reply message stored by the
    emulator) for `--questions` questions asked one after another in one private chat;
  * `--chats` private chats asking at once: answers per second and per-chat p50/p99, next to
    the bare index answering the same questions on the same number of threads.
`--articles N` indexes only the first N articles (a quick check of the script itself).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
from measure import emulator_settings, percentile

from bot.app import RATE_LIMITER_OPTIONS, build_application
from bot.handlers import common
from bot.render import render_answer
from corpus.loaders import load_path
from emulator import BotApiEmulator
from index import Answer, NewsIndex
from index.evaluate import build_index, load_questions

ROOT = Path(__file__).resolve().parent.parent
USER = 1_000
REPLY_TIMEOUT = 120.0


def summary(values_ms: list[float]) -> str:
    return f"p50 {percentile(values_ms, 50):7.1f} ms   p99 {percentile(values_ms, 99):7.1f} ms"


def open_index(args: argparse.Namespace, tmp: str) -> NewsIndex:
    """As `newsbot serve` opens it: questions on the ONNX export, ingest on torch."""
    index_dir = args.index_dir or Path(tmp) / "data"
    index = NewsIndex(index_dir, create=True)
    started = time.perf_counter()
    if args.articles:
        loaded = load_path(args.data / "corpus.json")
        index.ingest(loaded.articles[: args.articles])
    else:
        build_index(index, args.data)  # a quick no-op when the index already holds the corpus
    stats = index.stats()
    print(
        f"index: {stats.articles} articles, {stats.chunks} chunks in {index_dir} "
        f"({time.perf_counter() - started:.1f} s to build or check)"
    )
    return index


def bare_latencies(index: NewsIndex, questions: list[str], top: int) -> list[float]:
    """Measured on a worker thread, where the bot runs it too (`asyncio.to_thread`): torch's
    intra-op threads make the same call several times slower on a busy machine's main thread."""

    def run() -> list[float]:
        latencies = []
        for question in questions:
            started = time.perf_counter()
            index.answer(question, top)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def bare_throughput(index: NewsIndex, questions: list[str], top: int) -> float:
    """Answers per second with the thread count `asyncio.to_thread` uses by default."""
    workers = min(32, (os.cpu_count() or 1) + 4)
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda q: index.answer(q, top), questions))
    return len(questions) / (time.perf_counter() - started)


def expected_messages(index: NewsIndex, question: str, page: int) -> int:
    """How many messages the bot sends for this question (the index is deterministic)."""
    answer = index.answer(question, page + 1)
    return len(render_answer(Answer(question, answer.citations[:page], answer.abstained)))


async def ask_and_time(
    emulator: BotApiEmulator, chat_id: int, question: str, messages: int
) -> tuple[float, float]:
    """(ms to the first reply, ms to the whole answer) for one question in one chat."""
    since = emulator.mark()
    started = time.perf_counter()
    emulator.send_user_message(chat_id, question)
    await emulator.wait_for_messages(chat_id, since=since, timeout=REPLY_TIMEOUT)
    first = (time.perf_counter() - started) * 1000
    await emulator.wait_for_messages(chat_id, messages, since=since, timeout=REPLY_TIMEOUT)
    return first, (time.perf_counter() - started) * 1000


async def bot_run(
    index: NewsIndex,
    sequential: list[str],
    concurrent: list[str],
    page: int,
    counts: dict[str, int],
) -> tuple[list[float], list[float], float]:
    async with BotApiEmulator() as emulator:
        settings = emulator_settings(
            emulator,
            index,
            answer_articles=page,
            user_questions_per_minute=0,  # one user asks them all: not a flood
        )
        app = build_application(settings, index)
        async with app:
            await app.post_init(app)
            await app.start()
            await app.updater.start_polling(timeout=5)
            try:
                emulator.add_chat(USER)
                await ask_and_time(emulator, USER, sequential[0], counts[sequential[0]])  # warm
                one_by_one = [
                    (await ask_and_time(emulator, USER, q, counts[q]))[0] for q in sequential
                ]
                chats = [USER + 1 + n for n in range(len(concurrent))]
                for chat_id in chats:
                    emulator.add_chat(chat_id)
                started = time.perf_counter()
                timed = await asyncio.gather(
                    *(
                        ask_and_time(emulator, chat_id, q, counts[q])
                        for chat_id, q in zip(chats, concurrent, strict=True)
                    )
                )
                per_second = len(concurrent) / (time.perf_counter() - started)
                if emulator.errors:
                    print(f"emulator errors: {emulator.errors[:3]}", file=sys.stderr)
            finally:
                await app.updater.stop()
                await app.stop()
    return one_by_one, [first for first, _ in timed], per_second


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--index-dir", type=Path, help="index to build or reuse (default: temp)")
    parser.add_argument("--questions", type=int, default=200, help="asked one after another")
    parser.add_argument("--chats", type=int, default=50, help="chats asking at the same time")
    parser.add_argument("--articles", type=int, help="index only the first N articles")
    parser.add_argument("--answer-articles", type=int, default=3, help="ANSWER_ARTICLES")
    parser.add_argument(
        "--typing-after",
        type=float,
        default=common.TYPING_AFTER,
        help="seconds before 'typing…' is sent (0: at once, as before)",
    )
    args = parser.parse_args()
    common.TYPING_AFTER = args.typing_after
    logging.basicConfig(level=logging.WARNING)

    queries = [q["query"] for q in load_questions(args.data)]
    sequential = queries[: args.questions]
    concurrent = queries[args.questions : args.questions + args.chats]
    page = args.answer_articles
    top = page + 1  # what the bot asks the index for: one extra tells whether "More" is needed
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(args, tmp)
        # One pass over every question first, so that the bare index and the bot both meet
        # the index's warm caches (term statistics) and compare fairly.
        counts = {q: expected_messages(index, q, page) for q in {*sequential, *concurrent}}
        bare = bare_latencies(index, sequential, top)
        bare_rate = bare_throughput(index, concurrent, top)
        one_by_one, at_once, bot_rate = asyncio.run(
            bot_run(index, sequential, concurrent, page, counts)
        )
        index.close()

    workers = min(32, (os.cpu_count() or 1) + 4)
    limit = RATE_LIMITER_OPTIONS["overall_max_rate"] / RATE_LIMITER_OPTIONS["overall_time_period"]
    print(f"\n{len(sequential)} questions one after another (answer_articles={page}, warm caches):")
    print(f"  bare NewsIndex.answer(top={top})   {summary(bare)}")
    print(f"  bot, question -> first reply     {summary(one_by_one)}")
    overhead = statistics.median(one_by_one) - statistics.median(bare)
    print(f"  bot overhead at the median       {overhead:7.1f} ms")
    print(f"\n{len(concurrent)} chats asking at once:")
    print(f"  bare index on {workers} threads         {bare_rate:7.1f} answers/s")
    print(f"  bot                              {bot_rate:7.1f} answers/s   {summary(at_once)}")
    print(
        f"  (the bot's rate limiter allows {limit:g} messages/s overall; 'typing', sent when an "
        f"answer takes over {args.typing_after:g} s, is not paced)"
    )


if __name__ == "__main__":
    main()
