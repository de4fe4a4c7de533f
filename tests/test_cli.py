"""The `newsbot` command as a user runs it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli.main import main
from corpus.loaders import seed_path


def test_ingest_ask_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    assert main(["ingest", str(seed_path()), str(bad)]) == 1  # the good one still lands
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


def test_ingest_says_what_failed_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    good = tmp_path / "note.txt"
    good.write_text("Harbour reopens\n\nThe harbour reopened on Monday after the storm.\n")
    two = tmp_path / "two.jsonl"
    two.write_text('{"title": "Ok", "body": "Fine text."}\n{"title": "Broken"\n')
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert main(["ingest", str(good), str(two), str(empty)]) == 1
    out, err = capsys.readouterr()
    assert "2 new" in out
    assert "two.jsonl (record 2)" in err and "empty.json" in err and "empty list" in err
    assert "2 inputs could not be read" in err and ".jsonl" in err


def test_options_are_checked_with_clear_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    assert main(["ingest", str(seed_path())]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["ask", "anything", "--top", "-1"])
    assert exited.value.code == 2 and "must be 1 or more" in capsys.readouterr().err
    assert main(["ask", "x", "--since", "2024-02-01", "--until", "2024-01-01"]) == 2
    assert "--since must be before --until" in capsys.readouterr().err
    assert main(["ask", "x", "--source", "Bloomberg"]) == 2
    assert "no outlet named 'Bloomberg'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("newsbot ")


def test_articles_lists_ids_for_remove_and_stats_counts_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    assert main(["ingest", str(seed_path())]) == 0
    capsys.readouterr()
    assert main(["articles", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["title"].startswith("Turkey and Israel")
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "1 article, " in out and (" 1 chunk," in out or " chunks," in out)
    assert main(["remove", row["id"]]) == 0
    assert main(["articles"]) == 0
    assert "0 articles" in capsys.readouterr().err


def test_a_database_from_newer_code_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data))
    with sqlite3.connect(data / "feeds.sqlite") as conn:  # written by a later release
        conn.execute("PRAGMA user_version = 99")
    assert main(["feeds", "list"]) == 2
    err = capsys.readouterr().err
    assert "feeds.sqlite" in err and "schema version 99" in err and "Upgrade newsbot" in err
