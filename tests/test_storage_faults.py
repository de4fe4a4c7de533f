"""Storage faults: a disk that fills up during an ingest. The command says so in one line, and
the index keeps answering from what was committed before."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from corpus.models import Article
from index import NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Where did Turkey and Israel hold their talks?"


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
