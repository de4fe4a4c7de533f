"""Three `newsbot serve --webhook` workers behind one URL, sharing PostgreSQL and one index.

The emulator posts every update to a round-robin balancer in front of the workers, as a load
balancer would: any worker answers any update, a "More" button works on another worker than
the one that answered, an article ingested by a separate process is found by every worker
without /reload, and 1,000 digests due at once go out exactly once, within Telegram's flood
limit, though one worker is killed in the middle of the fan-out.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from postgres import fresh_database

from bot.digests import SEND_CONCURRENCY
from corpus.models import Article
from emulator import BotApiEmulator
from emulator.balancer import Balancer, free_port, listening, start_webhook_worker
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder, export, export_dir
from services.subscriptions import SubscriptionStore

REPO = Path(__file__).resolve().parent.parent
WORKERS = 3
DIGESTS = 1_000
SECRET = "workers-secret"
QUESTION = "Where did Turkey and Israel hold their talks?"
NEW_QUESTION = "What did the lighthouse keepers' union announce on Tuesday?"
NEW_ARTICLE = {
    "title": "Lighthouse keepers form a union",
    "source": "Coastal Times",
    "url": "https://coastal.example/keepers-union",
    "body": "The lighthouse keepers' union announced on Tuesday that its members will stop "
    "manual foghorn duty next spring, after automatic horns were fitted on every headland of "
    "the northern coast. The union said the keepers will be retrained as coastal weather "
    "observers.",
}


def follow_ups() -> list[Article]:
    """Two more reports on the talks, so an answer has a "More" button."""
    return [
        Article(
            title=f"Talks in Baku, day {day}",
            body=f"On day {day} Turkish and Israeli officials met again in Azerbaijan's capital "
            "Baku to work on a mechanism that keeps their forces in Syria apart. Diplomats "
            f"said the talks in Azerbaijan made progress on hotlines, report {day} noted.",
            source="Regional Wire",
            url=f"https://wire.example/baku-talks-{day}",
        )
        for day in (2, 3)
    ]


async def start_worker(
    emu: BotApiEmulator, data_dir: Path, database: str, port: int, n: int, url: str
) -> asyncio.subprocess.Process:
    env = {
        "NEWSBOT_DATA_DIR": str(data_dir),
        "DATABASE_URL": database,
        "WORKER_NAME": f"w{n}",
        "BOT_WORKERS": str(WORKERS),
        "TELEGRAM_BOT_TOKEN": emu.token,
        "TELEGRAM_BASE_URL": emu.base_url,
        "DIGEST_TICK_SECONDS": "1",
        "INDEX_REFRESH_SECONDS": "2",
        "ANSWER_ARTICLES": "1",
    }
    return await start_webhook_worker(env, port=port, url=url, secret=SECRET)


async def until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def digests_sent(emu: BotApiEmulator) -> Counter[int]:
    return Counter(
        c.params["chat_id"]
        for c in emu.calls
        if c.method == "sendMessage" and c.ok and "daily digest" in str(c.params.get("text"))
    )


async def test_three_workers_share_the_work_and_send_each_digest_once(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    data_dir = tmp_path / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([seed_article, *follow_ups()], now=datetime.now(UTC) - timedelta(minutes=30))
    index.close()
    export(embedder, export_dir(data_dir, embedder.name))  # made once, not by three at a time
    private = list(range(5_000, 5_000 + 2 * WORKERS))
    chats = list(range(8_000, 8_000 + DIGESTS))
    ports = [free_port() for _ in range(WORKERS)]
    balancer = Balancer(ports)
    balancer.start()
    with fresh_database() as database:
        async with BotApiEmulator(flood_limits=True) as emu:
            for chat in [*private, *chats]:
                emu.add_chat(chat)
            workers = [
                await start_worker(emu, data_dir, database, port, n, balancer.url)
                for n, port in enumerate(ports)
            ]
            try:
                assert await until(lambda: all(listening(p) for p in ports), 90), "not started"
                await asyncio.sleep(1)  # each worker's setWebhook is in

                # any worker answers any update
                asked = {c: emu.send_user_message(c, QUESTION)["message_id"] for c in private}
                assert await until(lambda: all(emu.messages(c) for c in private), 30)
                answered_by = {balancer.worker_of[u] for u in balancer.worker_of}
                assert answered_by == set(range(WORKERS))
                for chat in private:
                    [answer] = emu.messages(chat)
                    assert answer.reply_to_message_id == asked[chat]
                    assert "Azerbaijan" in answer.plain

                # a More button pressed on another worker than the one that answered
                order = sorted(balancer.worker_of)  # update ids, in the order of `private`
                nxt = len(order) % WORKERS  # the worker the press will reach
                i = next(i for i, u in enumerate(order) if balancer.worker_of[u] != nxt)
                chat = private[i]
                [answer] = emu.messages(chat)
                data = answer.buttons[0]["callback_data"]
                press = emu.press_button(chat, answer.message_id, data)
                assert (await emu.wait_for_callback_answer(press)).get("text") is None
                assert balancer.worker_of[max(balancer.worker_of)] == nxt != i % WORKERS
                [_, more] = await emu.wait_for_messages(chat, 2, since=0)
                assert more.plain.startswith(f"Report 2 on “{QUESTION}”")

                # an ingest process adds an article; every worker finds it within 10 s
                (tmp_path / "new.json").write_text(json.dumps([NEW_ARTICLE]), encoding="utf-8")
                ingest = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "cli.main", "ingest", str(tmp_path / "new.json"),
                    cwd=REPO, env={**os.environ, "NEWSBOT_DATA_DIR": str(data_dir)},
                    stdout=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                assert await ingest.wait() == 0
                ingested = time.monotonic()
                found: set[int] = set()
                while found != set(range(WORKERS)) and time.monotonic() - ingested < 10:
                    since = emu.mark()
                    message = emu.send_user_message(private[1], NEW_QUESTION)
                    [reply] = await emu.wait_for_messages(private[1], since=since)
                    if "foghorn" in reply.plain:
                        found.add(balancer.worker_of[max(balancer.worker_of)])
                    assert reply.reply_to_message_id == message["message_id"]
                    await asyncio.sleep(0.3)
                print(f"new article found by every worker {time.monotonic() - ingested:.1f} s on")
                assert found == set(range(WORKERS))

                # 1,000 digests due at once; one worker killed in the middle of the fan-out
                now = datetime.now(UTC)
                with SubscriptionStore(database) as subscriptions:
                    due = (now - timedelta(minutes=1)).strftime("%H:%M")
                    for chat in chats:
                        subscriptions.add(
                            chat, hhmm=due, tz="UTC", topic=None, created_by=chat,
                            now=now - timedelta(hours=1),
                        )  # fmt: skip
                started = time.monotonic()
                assert await until(lambda: sum(digests_sent(emu).values()) >= 200, 60)
                workers[0].send_signal(signal.SIGKILL)
                await workers[0].wait()
                total = lambda: sum(digests_sent(emu).values())  # noqa: E731
                await until(lambda: total() >= DIGESTS - SEND_CONCURRENCY, 120)
                seconds = time.monotonic() - started
                count = -1
                while count != total():  # until nothing more comes for 3 s (a second copy?)
                    count = total()
                    await asyncio.sleep(3)
            finally:
                for worker in workers:
                    if worker.returncode is None:
                        worker.send_signal(signal.SIGTERM)
                        await worker.wait()
            sent = digests_sent(emu)
            floods = sum(1 for c in emu.calls if c.status == 429)
    twice = sum(1 for count in sent.values() if count > 1)
    lost = DIGESTS - len(sent)
    print(f"{len(sent)} digests in {seconds:.1f} s; lost {lost}, twice {twice}, 429s {floods}")
    assert twice == 0
    assert lost <= SEND_CONCURRENCY  # claimed by the killed worker, not yet sent
    assert floods == 0
