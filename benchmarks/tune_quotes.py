"""Fit and compare the quote model (`index.quotes.QuoteWeights`) on what a reader is shown.

Usage: python benchmarks/tune_quotes.py --index-dir DIR [--fit] [--half dev|heldout]
          [--quote name=value ...]...

For every answerable question of the chosen half of the everyday-question set and of
MultiHop-RAG (even positions: dev; odd: held-out), each gold article's sentences are described
by `sentence_features` against the question, exactly as `NewsIndex.answer` quotes them. A quote
"answers" as `newsbot eval questions` defines it: at least 60% of the evidence's content words
(the everyday set's evidence sentences; MultiHop's gold fact of that article) are in the quotes.
`--fit` fits the feature weights on the dev half (a conditional logit: which of an article's
sentences holds most of the evidence), the everyday items weighted so both sets count alike,
and prints them; every setting is then scored on the chosen half.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
import numpy as np
from scipy.optimize import minimize
from tune_retrieval import parse_value  # the script beside this one

from corpus.models import normalise_url
from index import NewsIndex
from index.evaluate import build_index, load_questions
from index.evaluate_questions import QUOTED_SHARE, parse_time, quoted_share
from index.quotes import FEATURES, QuoteWeights, pick_quotes, sentence_features
from index.search import Filters

ROOT = Path(__file__).resolve().parent.parent
LABEL_SHARE = 0.5  # a sentence holding this much of the evidence counts as answering


@dataclasses.dataclass
class Item:
    dataset: str
    question: str
    evidence: list[str]
    sentences: list[str]
    cosines: list[float]
    weights: dict[str, float]
    kind: str | None


def collect(index: NewsIndex, data: Path, questions: Path, parity: int) -> list[Item]:
    ids = {normalise_url(a.url): a.id for a in index.store.list_articles(Filters()) if a.url}
    asked: list[tuple[str, str, dict[str, list[str]], str | None]] = []
    for item in json.loads(questions.read_text(encoding="utf-8"))[parity::2]:
        if item.get("article_url"):
            gold = {item["article_url"]: item.get("evidence") or []}
            asked.append(("everyday", item["question"], gold, item.get("asked_at")))
    for item in load_questions(data)[parity::2]:
        facts: dict[str, list[str]] = {}
        for e in item["evidence_list"]:
            facts.setdefault(e["url"], []).append(e["fact"])
        if facts:
            asked.append(("multihop", item["query"], facts, None))
    items = []
    for dataset, question, gold, at in asked:
        intent = index.parse(question, parse_time(at))
        weights = index.searcher.weights(intent)
        wanted = {ids[normalise_url(u)]: ev for u, ev in gold.items() if normalise_url(u) in ids}
        for article_id, (sentences, cosines) in index.searcher.article_sentences(
            intent, list(wanted)
        ).items():
            items.append(
                Item(
                    dataset,
                    question,
                    wanted[article_id],
                    sentences,
                    cosines,
                    weights,
                    intent.asks,
                )
            )
    return items


def matrix(item: Item) -> np.ndarray:
    rows = sentence_features(item.sentences, item.weights, item.cosines, item.kind)
    return np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))


def fit(items: list[Item], l2: float = 1.0) -> np.ndarray:
    """Conditional logit: the sentence holding the most evidence against the article's others."""
    blocks, labels, sets = [], [], []
    for item in items:
        shares = [quoted_share(item.evidence, [s]) for s in item.sentences]
        best = int(np.argmax(shares)) if shares else 0
        if shares and shares[best] >= LABEL_SHARE:
            blocks.append(matrix(item))
            labels.append(best)
            sets.append(item.dataset)
    lengths = [len(b) for b in blocks]
    starts = np.cumsum([0, *lengths[:-1]])
    x = np.vstack(blocks)
    rows = starts + np.array(labels)
    counts = {d: sets.count(d) for d in ("everyday", "multihop")}
    weight = np.array([counts["multihop"] / counts[d] for d in sets]) / len(sets)
    per_row = np.repeat(weight, lengths)

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ beta
        top = np.maximum.reduceat(z, starts)
        e = np.exp(z - np.repeat(top, lengths))
        sums = np.add.reduceat(e, starts)
        p = e / np.repeat(sums, lengths)
        value = -np.sum(weight * (z[rows] - top - np.log(sums))) + 0.5 * l2 * beta @ beta / len(
            sets
        )
        grad = x.T @ (per_row * p) - x[rows].T @ weight + l2 * beta / len(sets)
        return float(value), grad

    result = minimize(
        loss, np.array(dataclasses.astuple(QuoteWeights())), jac=True, method="L-BFGS-B"
    )
    print(f"  fitted on {counts}: loss {result.fun:.4f}")
    return result.x


def quote_settings(groups: list[list[str]]) -> list[tuple[str, QuoteWeights]]:
    """The defaults, then one setting per `--quote name=value ...` group."""
    settings = [("defaults", QuoteWeights())]
    for group in groups:
        changes = {k: parse_value(v) for k, v in (item.split("=", 1) for item in group)}
        settings.append((" ".join(group), dataclasses.replace(QuoteWeights(), **changes)))
    return settings


def score(items: list[Item], tuning: QuoteWeights) -> dict[str, float]:
    hits: dict[str, list[bool]] = {"everyday": [], "multihop": []}
    lengths = []
    for item in items:
        quotes = pick_quotes(
            item.sentences, item.weights, cosines=item.cosines, kind=item.kind, tuning=tuning
        )
        lengths.append(len(quotes))
        hits[item.dataset].append(quoted_share(item.evidence, quotes) >= QUOTED_SHARE)
    out = {d: float(np.mean(h)) for d, h in hits.items() if h}
    out["sentences"] = float(np.mean(lengths))
    return out


def tuning_parser(description: str | None) -> argparse.ArgumentParser:
    """The arguments every tuning script takes: the data, the index, the half, --fit."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument(
        "--questions", type=Path, default=ROOT / "benchmarks" / "questions" / "everyday.json"
    )
    parser.add_argument("--half", choices=["dev", "heldout"], default="dev")
    parser.add_argument("--fit", action="store_true")
    return parser


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--l2", type=float, default=1.0, help="the fit's L2 penalty")
    parser.add_argument("--quote", action="append", nargs="+", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    index = NewsIndex(args.index_dir, create=True)
    build_index(index, args.data)
    items = collect(index, args.data, args.questions, 0 if args.half == "dev" else 1)
    settings = quote_settings(args.quote)
    if args.fit:
        train = items if args.half == "dev" else collect(index, args.data, args.questions, 0)
        beta = fit(train, args.l2)
        fitted = dict(zip(FEATURES, (round(float(b), 3) for b in beta), strict=True))
        print("fitted:", " ".join(f"{k}={v}" for k, v in fitted.items()))
        settings.append(("fitted", QuoteWeights(**fitted)))
    for name, tuning in settings:
        figures = " ".join(f"{k} {v:.3f}" for k, v in score(items, tuning).items())
        print(f"{name[:60]:60s} {figures}")


if __name__ == "__main__":
    main()
