"""The MultiHop-RAG retrieval protocol (Tang & Yang, COLM 2024), reproduced exactly.

A retrieved chunk "hits" when a gold fact, with spaces and newlines removed, is a substring of the
chunk's text likewise stripped. Null queries are excluded from the hit metrics and used instead to
measure abstention ("no relevant reporting").
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.loaders import load_path
from index.service import NewsIndex

NULL = "null_query"


def _strip(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def query_metrics(retrieved: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """Hits@10, Hits@4, MRR@10 and AP@10 of one query, as the paper's script computes them."""
    gold_s = [_strip(g) for g in gold]
    found: set[str] = set()
    first_rank: int | None = None
    ap_sum = 0.0
    for rank, text in enumerate((_strip(t) for t in retrieved[:10]), start=1):
        if any(g in text for g in gold_s):
            first_rank = first_rank or rank
            new = [g for g in dict.fromkeys(gold_s) if g in text and g not in found]
            found.update(new)
            ap_sum += len(new) / rank
    return {
        "hits10": float(first_rank is not None),
        "hits4": float(first_rank is not None and first_rank <= 4),
        "mrr10": 1.0 / first_rank if first_rank else 0.0,
        "map10": ap_sum / min(len(gold), 10) if gold else 0.0,
    }


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = ("hits10", "hits4", "mrr10", "map10")
    if not rows:
        return dict.fromkeys(keys, 0.0)
    return {k: sum(r[k] for r in rows) / len(rows) for k in keys}


@dataclass
class EvalResult:
    """Per-question records and the summary table."""

    records: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        answerable = [r for r in self.records if r["question_type"] != NULL]
        groups: dict[str, list[dict[str, Any]]] = {
            "all answerable": answerable,
            "dev (even)": [r for r in answerable if r["position"] % 2 == 0],
            "held-out (odd)": [r for r in answerable if r["position"] % 2 == 1],
        }
        for kind in sorted({r["question_type"] for r in answerable}):
            groups[kind] = [r for r in answerable if r["question_type"] == kind]
        return groups

    def summary(self) -> dict[str, Any]:
        table = {
            name: {"n": len(rows), **mean_metrics([r["metrics"] for r in rows])}
            for name, rows in self.groups().items()
        }
        nulls = [r for r in self.records if r["question_type"] == NULL]
        answerable = [r for r in self.records if r["question_type"] != NULL]
        abstention = {
            "null_abstained": _rate(nulls, lambda r: r["abstained"]),
            "answerable_answered": _rate(answerable, lambda r: not r["abstained"]),
            "dev_null_abstained": _rate(
                [r for r in nulls if r["position"] % 2 == 0], lambda r: r["abstained"]
            ),
            "dev_answerable_answered": _rate(
                [r for r in answerable if r["position"] % 2 == 0], lambda r: not r["abstained"]
            ),
            "heldout_null_abstained": _rate(
                [r for r in nulls if r["position"] % 2 == 1], lambda r: r["abstained"]
            ),
            "heldout_answerable_answered": _rate(
                [r for r in answerable if r["position"] % 2 == 1], lambda r: not r["abstained"]
            ),
        }
        lat = sorted(self.latencies_ms)
        latency = {
            "p50_ms": statistics.median(lat) if lat else 0.0,
            "p99_ms": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))] if lat else 0.0,
        }
        return {"table": table, "abstention": abstention, "latency": latency}

    def format_table(self) -> str:
        summary = self.summary()
        lines = [f"{'questions':<22}{'n':>6}{'Hits@10':>9}{'Hits@4':>9}{'MRR@10':>9}{'MAP@10':>9}"]
        for name, row in summary["table"].items():
            lines.append(
                f"{name:<22}{row['n']:>6}{row['hits10']:>9.4f}{row['hits4']:>9.4f}"
                f"{row['mrr10']:>9.4f}{row['map10']:>9.4f}"
            )
        a = summary["abstention"]
        lines.append("")
        lines.append(
            f"abstained on null queries: {a['null_abstained']:.1%} "
            f"(dev {a['dev_null_abstained']:.1%}, held-out {a['heldout_null_abstained']:.1%})"
        )
        lines.append(
            f"answered answerable ones:  {a['answerable_answered']:.1%} "
            f"(dev {a['dev_answerable_answered']:.1%}, "
            f"held-out {a['heldout_answerable_answered']:.1%})"
        )
        lat = summary["latency"]
        lines.append(f"query latency: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms")
        return "\n".join(lines)

    def paper_format(self) -> list[dict[str, Any]]:
        """Records the paper's `retrieval_evaluate.py --file` reads as they are."""
        return [
            {
                "query": r["query"],
                "question_type": r["question_type"],
                "position": r["position"],
                "abstained": r["abstained"],
                "retrieval_list": [{"text": t} for t in r["retrieved"]],
                "gold_list": [{"fact": f} for f in r["facts"]],
            }
            for r in self.records
        ]


def _rate(rows: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows) if rows else 0.0


def load_questions(data_dir: Path) -> list[dict[str, Any]]:
    return json.loads((data_dir / "MultiHopRAG.json").read_text(encoding="utf-8"))


def build_index(index: NewsIndex, data_dir: Path) -> None:
    """Ingest the corpus (a no-op when the index already holds it unchanged)."""
    loaded = load_path(data_dir / "corpus.json")
    if loaded.errors:
        raise ValueError(f"corpus.json: {loaded.errors[0]}")
    index.ingest(loaded.articles)


def run_eval(
    index: NewsIndex,
    questions: list[dict[str, Any]],
    positions: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalResult:
    """Run every question (or those at `positions`) through the product's own retrieval."""
    result = EvalResult()
    chosen = range(len(questions)) if positions is None else positions
    index.answer(questions[0]["query"])  # warm the model and caches
    for done, position in enumerate(chosen, start=1):
        item = questions[position]
        started = time.perf_counter()
        passages, abstained = index.retrieve(item["query"], top=10)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        retrieved = [p.text for p in passages[:10]]
        facts = [e["fact"] for e in item.get("evidence_list", [])]
        result.records.append(
            {
                "position": position,
                "query": item["query"],
                "question_type": item["question_type"],
                "abstained": abstained,
                "retrieved": retrieved,
                "facts": facts,
                "metrics": query_metrics(retrieved, facts) if facts else {},
            }
        )
        if progress:
            progress(done)
    return result
