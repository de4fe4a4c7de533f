"""Compare retrieval settings on the MultiHop-RAG dev half (even positions) or held-out half.

Usage: python benchmarks/tune_retrieval.py --index-dir DIR [--half dev|heldout|all]
          [--set name=value ...]...
Questions are encoded once (during the first configuration), so latency figures of the later
ones exclude encoding (use `newsbot eval multihop` for real latency). Each `--set` group is one
configuration (fields of `index.search.RetrievalConfig`); the defaults are always evaluated
first. The index is built on first use (see `newsbot eval`).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
import numpy as np

from index import NewsIndex
from index.evaluate import build_index, load_questions, run_eval

ROOT = Path(__file__).resolve().parent.parent


def parse_value(raw: str) -> object:
    if raw in ("true", "false"):
        return raw == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--half", choices=["dev", "heldout", "all"], default="dev")
    parser.add_argument("--set", action="append", nargs="+", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    index = NewsIndex(args.index_dir, create=True)
    build_index(index, args.data)
    questions = load_questions(args.data)
    parity = {"dev": 0, "heldout": 1}.get(args.half)
    positions = [i for i in range(len(questions)) if parity is None or i % 2 == parity]
    # encode every question once, as the product does: settings only change what happens after
    encode = index.searcher.encode
    cache: dict[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}

    def cached(question: str, parts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        key = (question, tuple(parts))
        if key not in cache:
            cache[key] = encode(question, parts)
        return cache[key]

    index.searcher.encode = cached
    base = index.searcher.config
    configs = [("defaults", base)]
    for group in args.set:
        changes = {k: parse_value(v) for k, v in (item.split("=", 1) for item in group)}
        configs.append((" ".join(group), dataclasses.replace(base, **changes)))
    for name, config in configs:
        index.searcher.config = config
        result = run_eval(index, questions, positions)
        summary = result.summary()
        row = summary["table"]["all answerable"]
        a = summary["abstention"]
        lat = summary["latency"]
        print(
            f"{name:60s} H@10 {row['hits10']:.4f} H@4 {row['hits4']:.4f} "
            f"MRR {row['mrr10']:.4f} MAP {row['map10']:.4f} | null-abst "
            f"{a['null_abstained']:.3f} ans {a['answerable_answered']:.3f} | "
            f"p50 {lat['p50_ms']:.1f} p99 {lat['p99_ms']:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
