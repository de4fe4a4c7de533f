"""The `newsbot` command as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from corpus.loaders import seed_path


def test_ingest_ask_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    assert main(["ingest", str(seed_path()), str(bad)]) == 0
    out, err = capsys.readouterr()
    assert "1 new" in out and "bad.json" in err

    assert main(["ask", "Where did Turkey and Israel hold their talks?"]) == 0
    out, _ = capsys.readouterr()
    assert "Turkey and Israel negotiate to avert military clash in Syria" in out
    assert "Azerbaijan" in out

    assert main(["ask", "Where did Turkey and Israel hold their talks?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"][0]["published_at"].startswith("2025-04-10")

    # keywords, as typed in inline mode, one of them a word the article does not use
    assert main(["ask", "Turkey Israel deconfliction mechanism"]) == 0
    assert "Turkey and Israel negotiate" in capsys.readouterr().out
    # nothing to search for: a hint, not quotes
    for junk in ("asdfgh", "", "   "):
        assert main(["ask", junk]) == 0
        out = capsys.readouterr().out
        assert "Ask me about the news" in out or "None of those words" in out
        assert "“" not in out

    batch = tmp_path / "questions.txt"
    batch.write_text(
        'Where did Turkey and Israel hold their talks?\n\n{"question": "asdfgh"}\n',
        encoding="utf-8",
    )
    assert main(["ask", "--batch", str(batch)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["question"] for line in lines] == [
        "Where did Turkey and Israel hold their talks?",
        "asdfgh",
    ]
    assert lines[0]["citations"] and lines[0]["latency_ms"] > 0
    assert lines[1]["abstained"] and lines[1]["hint"]

    assert main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] == 1 and stats["model"] == "all-MiniLM-L6-v2"

    assert main(["ingest", str(seed_path())]) == 0
    assert "0 new, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_ask_without_index_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["ask", "anything"]) == 2
    assert "newsbot ingest" in capsys.readouterr().err
