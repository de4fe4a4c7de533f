"""One user flooding the bot while 20 other chats ask as usual: does their latency hold?

Usage: python benchmarks/flood.py --index-dir DIR [--seconds 30] [--chats 20] [--flood 100]

Runs the application `newsbot serve` runs, with its default flood control (20 questions a
minute per user, 8 at once), against the local Bot API emulator on an index of the MultiHop-RAG
corpus. Twenty chats each ask a question every three seconds (spread out); one user sends `--flood`
questions a minute. Run twice, without and with the flooder; reported: the other chats' time to
reply p50/p99, and what the flooder got (answers, slow-down notices, questions skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import checkout  # noqa: E402, F401  (this checkout's code, not an installed copy)
from measure import emulator_settings, percentile  # noqa: E402

from bot.app import build_application, polling  # noqa: E402
from bot.handlers.access import SLOW_DOWN  # noqa: E402
from emulator import BotApiEmulator  # noqa: E402
from index import NewsIndex  # noqa: E402
from index.evaluate import load_questions  # noqa: E402

FLOODER = 99


async def chat_loop(
    emu: BotApiEmulator, chat: int, questions: list[str], until: float, out: list[float]
) -> None:
    n = 0
    await asyncio.sleep((chat % 20) * 0.15)  # spread the chats over the three seconds
    while time.perf_counter() < until:
        since = emu.mark()
        started = time.perf_counter()
        emu.send_user_message(chat, questions[(chat * 7 + n) % len(questions)])
        await emu.wait_for_messages(chat, since=since, timeout=60)
        out.append((time.perf_counter() - started) * 1000)
        n += 1
        await asyncio.sleep(max(0.0, 3.0 - (time.perf_counter() - started)))


async def flood_loop(emu: BotApiEmulator, questions: list[str], until: float, rate: float) -> int:
    sent = 0
    while time.perf_counter() < until:
        emu.send_user_message(FLOODER, questions[sent % len(questions)])
        sent += 1
        await asyncio.sleep(60.0 / rate)
    return sent


async def run(args: argparse.Namespace, flood: bool) -> str:
    index = NewsIndex(args.index_dir)
    questions = [q["query"] for q in load_questions(args.data)][:300]
    async with BotApiEmulator() as emu:
        chats = [1_000 + n for n in range(args.chats)]
        for chat in [*chats, FLOODER]:
            emu.add_chat(chat)
        settings = emulator_settings(emu, index)
        latencies: list[float] = []
        async with polling(build_application(settings, index)):
            until = time.perf_counter() + args.seconds
            tasks = [chat_loop(emu, chat, questions, until, latencies) for chat in chats]
            flooding = flood_loop(emu, questions, until, args.flood) if flood else None
            results = await asyncio.gather(*tasks, *([flooding] if flooding else []))
            await asyncio.sleep(3)
        index.close()
    line = (
        f"{'with' if flood else 'without':7} the flooder: {len(latencies)} answers to "
        f"{args.chats} chats, p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms"
    )
    if flood:
        replies = [m.plain for m in emu.messages(FLOODER)]
        notices = sum(text.startswith(SLOW_DOWN.split("{")[0]) for text in replies)
        sent = results[-1]
        line += (
            f"; the flooder sent {sent}, got {len(replies) - notices} answers and {notices} "
            f"slow-down notice(s); {sent - len(replies) + notices} skipped"
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--flood", type=float, default=100.0, help="the flooder's questions/min")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    for flood in (False, True):
        print(asyncio.run(run(args, flood)))


if __name__ == "__main__":
    main()
