"""Several `newsbot serve --webhook` workers behind one URL, on PostgreSQL: answers/s and time
to reply for 50 chats at once with 1 and 2 workers, and 1,000 digests due at once over 3.

Usage: python benchmarks/workers.py --index-dir DIR [--chats 50] [--rounds 4]
           [--workers 1,2] [--digests 1000] [--digest-workers 3] [--milvus-uri URI] [--bare]

Each run starts its workers as processes (the command `newsbot serve --webhook` with
DATABASE_URL set to a fresh PostgreSQL database, WORKER_NAME and BOT_WORKERS), a round-robin
balancer in front of them (`emulator.balancer`) and the Bot API emulator posting to it. Each of
`--chats` private chats asks `--rounds` questions from the everyday set one after the other
(the next when the answer came). The digest run subscribes `--digests` chats due now and counts
what arrives: sent once, twice, lost, and 429s from the emulator's flood limits.
`--bare` first runs as many processes answering with the index alone (no Telegram, emulator or
database): the most this machine's cores allow, the ceiling for the workers' speed-up.
`--milvus-uri http://host:19530` runs the workers on a Milvus server (milvus-lite is one
process only); the index folder must then have been opened once with that URI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import checkout  # noqa: E402, F401  (this checkout's code, not an installed copy)
from measure import percentile  # noqa: E402

from emulator import BotApiEmulator  # noqa: E402
from emulator.balancer import (  # noqa: E402
    Balancer,
    free_port,
    listening,
    start_webhook_worker,
)
from services.subscriptions import SubscriptionStore  # noqa: E402

SERVER = os.environ.get("NEWSBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def fresh_database() -> tuple[str, object]:
    import psycopg

    name = f"newsbot_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return f"{SERVER}/{name}", lambda: admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def start_workers(
    emu: BotApiEmulator, args: argparse.Namespace, count: int, database: str
) -> tuple[list[asyncio.subprocess.Process], Balancer]:
    ports = [free_port() for _ in range(count)]
    balancer = Balancer(ports)
    balancer.start()
    workers = []
    for n, port in enumerate(ports):
        env = {
            "NEWSBOT_DATA_DIR": str(args.index_dir),
            "DATABASE_URL": database,
            "WORKER_NAME": f"bench{n}",
            "BOT_WORKERS": str(args.bot_workers or count),
            "TELEGRAM_BOT_TOKEN": emu.token,
            "TELEGRAM_BASE_URL": emu.base_url,
            "DIGEST_TICK_SECONDS": "1",
            "USER_QUESTIONS_PER_MINUTE": "0",
        }
        if args.milvus_uri:
            env |= {"VECTOR_BACKEND": "milvus", "MILVUS_URI": args.milvus_uri}
        worker = await start_webhook_worker(env, port=port, url=balancer.url, secret="bench-secret")
        workers.append(worker)
    deadline = time.monotonic() + 120
    while not all(listening(p) for p in ports):
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # every worker's setWebhook is in
    return workers, balancer


async def stop(workers: list[asyncio.subprocess.Process], balancer: Balancer) -> None:
    for worker in workers:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        await worker.wait()
    balancer.stop()


async def chats_at_once(args: argparse.Namespace, count: int, questions: list[str]) -> dict:
    database, drop = fresh_database()
    chats = list(range(10_000, 10_000 + args.chats))
    latencies: list[float] = []
    try:
        async with BotApiEmulator() as emu:
            for chat in chats:
                emu.add_chat(chat)
            workers, balancer = await start_workers(emu, args, count, database)
            try:

                async def converse(i: int, chat: int) -> None:
                    for r in range(args.rounds):
                        question = questions[(i * args.rounds + r) % len(questions)]
                        since = emu.mark()
                        started = time.perf_counter()
                        emu.send_user_message(chat, question)
                        await emu.wait_for_messages(chat, since=since, timeout=120)
                        latencies.append(time.perf_counter() - started)

                began = time.perf_counter()
                await asyncio.gather(*(converse(i, c) for i, c in enumerate(chats)))
                seconds = time.perf_counter() - began
            finally:
                await stop(workers, balancer)
    finally:
        drop()  # type: ignore[operator]
    return {
        "workers": count,
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / seconds, 2),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
    }


async def digests(args: argparse.Namespace) -> dict:
    database, drop = fresh_database()
    chats = list(range(20_000, 20_000 + args.digests))
    now = datetime.now(UTC)
    with SubscriptionStore(database) as store:
        due = (now - timedelta(minutes=1)).strftime("%H:%M")
        for chat in chats:
            store.add(chat, hhmm=due, tz="UTC", topic=None, created_by=chat,
                      now=now - timedelta(hours=1))  # fmt: skip
    try:
        async with BotApiEmulator(flood_limits=True) as emu:
            for chat in chats:
                emu.add_chat(chat)
            began = time.perf_counter()
            workers, balancer = await start_workers(emu, args, args.digest_workers, database)
            try:
                count, quiet = -1, time.perf_counter()
                while time.perf_counter() - quiet < 5:
                    sent = Counter(
                        c.params["chat_id"]
                        for c in emu.calls
                        if c.method == "sendMessage" and c.ok and "daily digest" in str(c.params)
                    )
                    if sum(sent.values()) != count:
                        count, quiet = sum(sent.values()), time.perf_counter()
                        last = quiet
                    await asyncio.sleep(0.2)
            finally:
                await stop(workers, balancer)
            floods = sum(1 for c in emu.calls if c.status == 429)
    finally:
        drop()  # type: ignore[operator]
    return {
        "workers": args.digest_workers,
        "due": args.digests,
        "sent_once": sum(1 for n in sent.values() if n == 1),
        "sent_twice": sum(1 for n in sent.values() if n > 1),
        "lost": args.digests - len(sent),
        "seconds_from_start": round(last - began, 1),
        "per_second": round(len(sent) / (last - began), 1),
        "429s": floods,
    }


# one process answering with the index alone: no Telegram, no emulator, no database server
_BARE = """
import json, sys, time
from index import NewsIndex
index = NewsIndex(sys.argv[1])
questions = json.loads(sys.argv[2])
index.answer(questions[0])
print("ready", flush=True)
sys.stdin.readline()
began = time.perf_counter()
for question in questions:
    index.answer(question)
print(time.perf_counter() - began, flush=True)
"""


def bare_ceiling(index_dir: Path, processes: int, questions: list[str]) -> dict[str, object]:
    """Answers/s of `processes` processes answering the same questions with the index alone,
    started together: what this machine's cores allow before any bot overhead."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", _BARE, str(index_dir), json.dumps(questions)]
    procs = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(processes)
    ]
    for proc in procs:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
    began = time.perf_counter()
    for proc in procs:
        assert proc.stdin
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        proc.communicate()
    seconds = time.perf_counter() - began
    answers = processes * len(questions)
    return {"bare_processes": processes, "answers_per_s": round(answers / seconds, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--digests", type=int, default=1000)
    parser.add_argument("--digest-workers", type=int, default=3)
    parser.add_argument("--milvus-uri")
    parser.add_argument(
        "--bot-workers",
        type=int,
        help="BOT_WORKERS for every worker (default: their count, so together they send at "
        "Telegram's 30 messages a second; 1 lets each send 30: the workers' own capacity)",
    )
    parser.add_argument(
        "--bare", action="store_true", help="first, the same counts of processes on the index alone"
    )
    args = parser.parse_args()
    everyday = json.loads((ROOT / "benchmarks/questions/everyday.json").read_text())
    questions = [q["question"] for q in everyday if q.get("article_url")]
    counts = [int(n) for n in args.workers.split(",")]
    if args.bare:
        bare = [bare_ceiling(args.index_dir, n, questions) for n in counts]
        for run in bare:
            print(json.dumps(run))
        if len(bare) > 1:
            ratio = float(bare[-1]["answers_per_s"]) / float(bare[0]["answers_per_s"])  # type: ignore[arg-type]
            print(f"bare speed-up {ratio:.2f}x (the machine's ceiling for the workers' ratio)")
    runs = [await chats_at_once(args, n, questions) for n in counts] if args.chats else []
    for run in runs:
        print(json.dumps(run))
    if len(runs) > 1:
        print(f"speed-up {runs[-1]['answers_per_s'] / runs[0]['answers_per_s']:.2f}x")
    if args.digests:
        print(json.dumps(await digests(args)))


if __name__ == "__main__":
    asyncio.run(main())
