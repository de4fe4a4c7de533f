"""Every `newsbot` command line the README shows runs as printed, in a fresh data directory,
in the order shown: the README cannot drift from what the program does."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from cli.main import main

REPO = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """The `newsbot ...` lines of the README's ```sh blocks, trailing comments cut off."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("newsbot "):
                lines.append(re.sub(r"\s+#.*$", "", line))
    return lines


def test_the_readme_shows_the_main_commands() -> None:
    shown = {shlex.split(line)[1] for line in readme_commands()}
    assert {"ingest", "ask", "timeline", "articles", "stats", "remove"} <= shown


def test_every_readme_command_runs_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)  # the README's paths are relative to the checkout
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    outputs = {}
    for line in readme_commands():
        argv = shlex.split(line)[1:]
        assert main(argv) == 0, line
        outputs[line] = capsys.readouterr().out
    # what `make run` gives a newcomer: a real answer with outlet, date and link
    asked = next(out for line, out in outputs.items() if line.startswith('newsbot ask "Did'))
    assert "The Independent" in asked and "https://www.independent.co.uk/" in asked
    answer = json.loads(next(out for line, out in outputs.items() if "--json" in line))
    assert answer["citations"] and all(c["url"] for c in answer["citations"])
    batch = next(out for line, out in outputs.items() if "--batch" in line)
    assert all(json.loads(row)["citations"] for row in batch.splitlines())
