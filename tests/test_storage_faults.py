"""Storage faults: a disk that fills up during an ingest, a data folder mounted read-only, the
bot's own SQLite files overwritten with garbage. Each is said in one clear line, and questions
keep being answered from what the index holds."""

from __future__ import annotations

import json
import logging
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from emulated import emulator_settings
from test_crowd import BAKU  # the second report on the talks

from bot.app import build_application, polling
from bot.digests import JOB_NAME as DIGEST_JOB
from bot.handlers.errors import SORRY, UNAVAILABLE
from corpus.loaders import seed_path
from corpus.models import Article
from emulator import BotApiEmulator
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import MODELS_DIR, OnnxQuestionEncoder
from services.paths import STORE_FILE
from services.subscriptions.store import SubscriptionStore

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Where did Turkey and Israel hold their talks?"
USER = 6100
ADMIN = 6199
# A second report on the seed article's story: an answer one article long has more to show.


def articles(count: int) -> list[dict[str, str]]:
    return [
        {
            "title": f"League report {i}",
            "body": " ".join(
                f"Team {i} played match {j} and the coach praised the defence." for j in range(60)
            ),
            "source": "Sports Daily",
            "url": f"https://sports.example/{i}",
        }
        for i in range(count)
    ]


def test_a_full_disk_during_ingest_is_one_clear_line_and_loses_nothing(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder, seed_article: Article
) -> None:
    data_dir = tmp_path / "data"
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    index.ingest([seed_article])
    index.close()
    batch = tmp_path / "more.json"
    batch.write_text(json.dumps(articles(40)), encoding="utf-8")
    room = (data_dir / "news.sqlite").stat().st_size + 64_000  # far less than 40 articles need

    def full_disk() -> None:  # files may not grow past `room`: writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    ingest = subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", str(batch)],
        cwd=REPO, env={**os.environ, "NEWSBOT_DATA_DIR": str(data_dir)},
        preexec_fn=full_disk, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ingest.returncode == 1
    assert "is the disk full or read-only?" in ingest.stderr
    assert "Traceback" not in ingest.stderr

    reopened = NewsIndex(data_dir, embedder=embedder, questions=questions)
    assert reopened.stats().articles == 1
    assert reopened.answer(QUESTION).citations[0].title == seed_article.title
    report = reopened.ingest([Article(**a) for a in articles(3)])  # room again: it carries on
    assert report.new == 3
    reopened.close()


# --------------------------------------------------------------------------- a read-only folder


def newsbot(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`newsbot ARGS` in a fresh process, as a user runs it on this data folder."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO, env={**os.environ, "NEWSBOT_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of its own, so that it can be remounted read-only (we run as root: a
    chmod would not stop a single write)."""
    target = tmp_path / "mount"
    target.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(target)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"a read-only folder needs `mount -t tmpfs`, not permitted here: {exc}")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def make_read_only(target: Path) -> None:
    done = subprocess.run(
        ["mount", "-o", "remount,ro", str(target)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        pytest.skip(f"remounting read-only is not permitted here: {done.stderr.strip()}")
    with pytest.raises(OSError):  # really read-only, for root too
        (target / "probe").touch()


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="StorageTestBot") as emulator:
        emulator.add_chat(USER)
        yield emulator


async def test_a_read_only_data_folder_answers_and_refuses_ingest_in_one_line(
    tmpfs: Path,
    embedder: Embedder,
    questions: OnnxQuestionEncoder,
    seed_article: Article,
    emu: BotApiEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A replica serving a prebuilt index from a read-only mount: `ask`, `stats` and the bot
    answer (the ONNX question model is not there and cannot be made there: torch answers);
    `ingest` says in one line that the folder is read-only; the bot's own stores cannot be
    created there, so /subscribe apologises while questions go on, those with more than a
    page to show included. Subscriptions made before the folder went read-only are listed, but
    no digest job runs (none could be marked as sent); `feeds list` says there are none."""
    data_dir = tmpfs / "data"
    built = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    built.ingest([seed_article, BAKU])
    built.close()
    assert not (data_dir / MODELS_DIR).exists()
    with SubscriptionStore(data_dir / STORE_FILE) as store:  # subscribed while it was writable
        store.add(USER, hhmm="08:00", tz="Europe/Istanbul", topic=None, created_by=USER)
    make_read_only(tmpfs)
    before = sorted(p.name for p in data_dir.iterdir())

    asked = newsbot(data_dir, "ask", QUESTION)
    assert asked.returncode == 0, asked.stderr
    assert seed_article.title in asked.stdout and "Azerbaijan" in asked.stdout
    assert "Traceback" not in asked.stderr

    stats = newsbot(data_dir, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["articles"] == 2

    ingest = newsbot(data_dir, "ingest", str(seed_path()))
    assert ingest.returncode != 0 and ingest.stdout == ""
    [line] = ingest.stderr.strip().splitlines()  # one line, no traceback, no log noise
    assert line.startswith(f"newsbot: the data folder {data_dir} is read-only")

    feeds = newsbot(data_dir, "feeds", "list")  # no feed list, and none can be made: none
    assert feeds.returncode == 0, feeds.stderr
    assert feeds.stdout.startswith("no feeds followed") and feeds.stderr == ""

    index = NewsIndex(data_dir, embedder=embedder, questions=questions)
    settings = emulator_settings(emu, index, ADMIN)
    paged = emulator_settings(emu, index, ADMIN, answer_articles=1)  # two answers, one shown
    try:
        async with polling(build_application(settings, index)) as app:
            # digests could not be marked as sent (each would go out at every tick): said once
            assert not app.job_queue.get_jobs_by_name(DIGEST_JOB)
            assert "digests are off" in caplog.text and "read-only" in caplog.text
            listed = await emu.say(USER, "/subscriptions")
            assert "08:00" in listed.plain and "Europe/Istanbul" in listed.plain
            answer = await emu.say(USER, QUESTION)
            assert "Azerbaijan" in answer.plain and seed_article.title in answer.plain
            refusal = await emu.say(USER, "/subscribe 08:00 Europe/Istanbul")
            assert refusal.plain == UNAVAILABLE
            again = await emu.say(USER, "why are turkey and israel talking")  # still answering
            assert seed_article.title in again.plain
        async with polling(build_application(paged, index)):
            first_page = await emu.say(USER, QUESTION)
            assert first_page.plain.startswith(f"1 report on “{QUESTION}”"), first_page.plain
    finally:
        index.close()
    assert emu.errors == []
    assert sorted(p.name for p in data_dir.iterdir()) == before


def test_a_read_only_copy_taken_while_the_writer_ran_reads_its_write_ahead_log(
    tmpfs: Path, tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder,
    seed_article: Article,
) -> None:  # fmt: skip
    """Files copied while an ingest's rows were still in news.sqlite-wal: the read-only copy
    has the article (read through the log, not around it)."""
    writer = NewsIndex(tmp_path / "live", create=True, embedder=embedder, questions=questions)
    writer.ingest([seed_article])
    live = writer.data_dir
    assert (live / "news.sqlite-wal").stat().st_size > 0  # not checkpointed yet
    shutil.copytree(live, tmpfs / "copy")
    writer.close()
    make_read_only(tmpfs)
    replica = NewsIndex(tmpfs / "copy", embedder=embedder, questions=questions)
    try:
        assert replica.stats().articles == 1
        assert replica.answer(QUESTION).citations[0].title == seed_article.title
    finally:
        replica.close()


# --------------------------------------------------------------------------- damaged stores

# The bot's own files (services/paths.py), each made anew, empty, once moved away.
BOT_STORES = ("bot.sqlite", "feeds.sqlite", "inbox.sqlite")


async def test_garbage_in_the_bots_own_stores_leaves_questions_answered(
    seeded_index: NewsIndex, emu: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """bot.sqlite, feeds.sqlite and inbox.sqlite overwritten with random bytes: the bot starts,
    says in the log which file is damaged and how to rebuild it, answers questions, and
    apologises for /subscribe. Once the files are moved away, as the log says, it starts again
    with empty ones and /subscribe works."""
    data_dir = seeded_index.data_dir
    garbage = random.Random(16)
    for name in BOT_STORES:
        (data_dir / name).write_bytes(garbage.randbytes(16_384))
    settings = emulator_settings(emu, seeded_index, ADMIN)
    caplog.set_level(logging.WARNING)
    async with polling(build_application(settings, seeded_index)):
        started = time.monotonic()
        answer = await emu.say(USER, QUESTION)
        assert "Azerbaijan" in answer.plain
        assert time.monotonic() - started < 5  # answered at once, not after retries
        assert (await emu.say(USER, "/subscribe 08:00 Europe/Istanbul")).plain == UNAVAILABLE
        assert (await emu.say(USER, "/subscriptions")).plain == UNAVAILABLE
        assert "Azerbaijan" in (await emu.say(USER, "Turkey Israel Syria talks")).plain
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    for name in BOT_STORES:
        said = [m for m in logged if f"{data_dir / name} is damaged" in m]
        assert said, f"nothing logged about {name}: {logged}"
        assert "move the file away" in said[0]
    assert not [r for r in caplog.records if r.exc_info], "tracebacks for a known state"
    assert emu.errors == []

    for name in BOT_STORES:  # what the log says to do
        shutil.move(data_dir / name, data_dir / f"{name}.damaged")
    async with polling(build_application(settings, seeded_index)):
        reply = await emu.say(USER, "/subscribe 08:00 Europe/Istanbul")
        assert reply.plain.startswith("Subscribed: a daily digest")
        assert reply.plain not in (UNAVAILABLE, SORRY)
    assert emu.errors == []
