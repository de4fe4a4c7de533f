"""Score a question file on what a reader of the answer gets, through `NewsIndex.answer`.

A question file is a JSON list of `{"question", "article_url" (null: the corpus cannot answer
it), "evidence": [sentence, ...], "style" (optional), "asked_at" (optional ISO time: the clock
that "yesterday" and "last week" are read against)}`. Positions alternate between the dev half
(even, for tuning) and the held-out half (odd, for reporting).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from corpus.models import normalise_url
from index.answer import Answer
from index.service import NewsIndex
from index.text import query_terms, words

CITED = 5  # an answer cites at most this many articles
QUOTED_SHARE = 0.6
DEFINITIONS = (
    f"answered: the reply cites at least one article (at most {CITED}).",
    "first: the right article is the first one cited.",
    "cited: the right article is among those cited (or named as 'also reported by').",
    f"quoted: at least {QUOTED_SHARE:.0%} of the evidence's content words (distinct, stopwords "
    "left out) appear in the quotes shown for the right article.",
    "refused: an unanswerable question gets no citation ('no relevant reporting').",
    "first, cited and quoted are shares of all answerable questions, answered or not.",
)


def load_question_file(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(i, dict) and "question" in i for i in data):
        raise ValueError(f"{path}: expected a JSON list of objects with a 'question' field")
    return data


def quoted_share(evidence: Sequence[str], quotes: Sequence[str]) -> float:
    """Share of the evidence's content words that the quotes contain."""
    wanted = set(query_terms(" ".join(evidence)))
    if not wanted:
        return 0.0
    shown = set(words(" ".join(quotes)))
    return len(wanted & shown) / len(wanted)


def score(item: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """What the reader got for one question."""
    gold = item.get("article_url")
    record: dict[str, Any] = {
        "question": item["question"],
        "style": item.get("style") or "unstyled",
        "answerable": gold is not None,
        "answered": answer.found,
        "cited_urls": [c.url for c in answer.citations],
    }
    if gold is None:
        return record
    gold = normalise_url(gold)
    first = cited = False
    quotes: tuple[str, ...] = ()
    for rank, citation in enumerate(answer.citations if answer.found else ()):
        urls = [citation.url, *(o.url for o in citation.also)]
        if any(u and normalise_url(u) == gold for u in urls):
            first = first or rank == 0
            cited = True
            quotes = citation.quotes
            break
    share = quoted_share(item.get("evidence") or [], quotes) if cited else 0.0
    record.update(
        first=first,
        cited=cited,
        quoted=share >= QUOTED_SHARE,
        quoted_share=round(share, 3),
        quotes=list(quotes),
    )
    return record


@dataclass
class QuestionsResult:
    records: list[dict[str, Any]] = field(default_factory=list)

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        groups: dict[str, list[dict[str, Any]]] = {
            "all": self.records,
            "dev (even)": [r for r in self.records if r["position"] % 2 == 0],
            "held-out (odd)": [r for r in self.records if r["position"] % 2 == 1],
        }
        for style in sorted({r["style"] for r in self.records}):
            groups[style] = [r for r in self.records if r["style"] == style]
        return groups

    @staticmethod
    def row(rows: list[dict[str, Any]]) -> dict[str, Any]:
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        latencies = sorted(r["latency_ms"] for r in rows)

        def rate(items: list[dict[str, Any]], key: str) -> float | None:
            return sum(bool(r[key]) for r in items) / len(items) if items else None

        return {
            "answerable": len(answerable),
            "answered": rate(answerable, "answered"),
            "first": rate(answerable, "first"),
            "cited": rate(answerable, "cited"),
            "quoted": rate(answerable, "quoted"),
            "unanswerable": len(unanswerable),
            "refused": (
                sum(not r["answered"] for r in unanswerable) / len(unanswerable)
                if unanswerable
                else None
            ),
            "p50_ms": statistics.median(latencies) if latencies else 0.0,
            "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
            if latencies
            else 0.0,
        }

    def summary(self) -> dict[str, Any]:
        return {name: self.row(rows) for name, rows in self.groups().items()}

    def format_table(self) -> str:
        head = (
            f"{'questions':<16}{'n':>5}{'answered':>9}{'first':>7}{'cited':>7}{'quoted':>7}"
            f"{'n-null':>7}{'refused':>8}{'p50 ms':>8}{'p99 ms':>8}"
        )
        lines = [head]

        def cell(value: float | None, width: int) -> str:
            return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"

        for name, row in self.summary().items():
            lines.append(
                f"{name:<16}{row['answerable']:>5}{cell(row['answered'], 9)}"
                f"{cell(row['first'], 7)}{cell(row['cited'], 7)}{cell(row['quoted'], 7)}"
                f"{row['unanswerable']:>7}{cell(row['refused'], 8)}"
                f"{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}"
            )
        lines.append("")
        lines.extend(DEFINITIONS)
        return "\n".join(lines)


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def run_questions(
    index: NewsIndex,
    items: list[dict[str, Any]],
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> QuestionsResult:
    """Ask every question as the bot does and score the reply.

    A question's own `asked_at` is the clock its time words are read against; else `now`;
    else the real time.
    """
    result = QuestionsResult()
    if items:
        index.answer(items[0]["question"], top=CITED)  # warm the model and caches
    for position, item in enumerate(items):
        clock = parse_time(item.get("asked_at")) or now
        started = time.perf_counter()
        answer = index.answer(item["question"], top=CITED, now=clock)
        latency = (time.perf_counter() - started) * 1000
        record = score(item, answer)
        record.update(position=position, latency_ms=round(latency, 2))
        result.records.append(record)
        if progress:
            progress(position + 1)
    return result
