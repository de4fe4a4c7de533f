"""`newsbot serve` as an operator runs it: seconds until it answers, and its memory after use.

Usage: python benchmarks/serve_process.py --index-dir DIR [--questions 1000] [--runs 3]

Starts the local Bot API emulator in this process and `newsbot serve` as a child process
pointed at it (TELEGRAM_BASE_URL), with feed polling off. A question is waiting in the chat
before the child starts; "ready" is the wall time from starting the child to that question's
reply (median of `--runs` starts). Then `--questions` MultiHop-RAG questions are asked, eight
chats at a time, and the child's resident memory (VmRSS, and its peak VmHWM) is read from
/proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import checkout  # noqa: E402, F401  (this checkout's code, not an installed copy)

from emulator import BotApiEmulator  # noqa: E402
from index.evaluate import load_questions  # noqa: E402

USER = 5_000


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def start_serve(emulator: BotApiEmulator, index_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(index_dir),
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_BASE_URL": emulator.base_url,
        "FEED_POLLING": "false",
        "USER_QUESTIONS_PER_MINUTE": "0",  # a benchmark, not a flood
        "NEWSBOT_FEEDS": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def run(args: argparse.Namespace) -> None:
    questions = [q["query"] for q in load_questions(args.data)]
    ready = []
    async with BotApiEmulator() as emulator:
        emulator.add_chat(USER)
        for attempt in range(args.runs):
            since = emulator.mark()
            emulator.send_user_message(USER, questions[attempt])
            started = time.perf_counter()
            child = start_serve(emulator, args.index_dir)
            try:
                await emulator.wait_for_messages(USER, since=since, timeout=120)
                ready.append(time.perf_counter() - started)
                if attempt < args.runs - 1:
                    continue
                after_start = memory_mb(child.pid)
                chats = [USER + 1 + n for n in range(8)]
                for chat_id in chats:
                    emulator.add_chat(chat_id)
                asked = questions[: args.questions]
                started = time.perf_counter()
                for at in range(0, len(asked), len(chats)):
                    batch = list(zip(chats, asked[at : at + len(chats)], strict=False))
                    marks = [emulator.mark() for _ in batch]
                    for chat_id, question in batch:
                        emulator.send_user_message(chat_id, question)
                    await asyncio.gather(
                        *(
                            emulator.wait_for_messages(chat_id, since=mark, timeout=120)
                            for (chat_id, _), mark in zip(batch, marks, strict=True)
                        )
                    )
                rate = len(asked) / (time.perf_counter() - started)
                after = memory_mb(child.pid)
            finally:
                child.terminate()
                child.wait(timeout=30)
    print(
        f"ready to answer after start: median {statistics.median(ready):.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in ready)})"
    )
    print(f"RSS after start and first answer: {after_start['VmRSS']:.0f} MB")
    print(
        f"after {len(asked)} questions ({rate:.1f}/s, 8 chats at a time): "
        f"RSS {after['VmRSS']:.0f} MB, peak {after['VmHWM']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
