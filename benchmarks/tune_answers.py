"""Fit the refusal model and compare quote settings on the dev halves (even positions) of the
everyday-question set and of MultiHop-RAG.

Usage: python benchmarks/tune_answers.py --index-dir DIR [--questions FILE] [--half dev|heldout]
          [--fit] [--quote name=value ...]...

`--fit` fits the logistic refusal model (`RetrievalConfig.refusal`) on the chosen half: every
question's `Evidence` features from the product's own search, labelled answerable or not, the
everyday questions weighted so both sets count alike. It prints the weights and, for the
decision threshold 0.5, the share refused of each set's unanswerable questions and answered of
its answerable ones. Each `--quote` group is one `QuoteWeights` setting scored on "quoted" (the
everyday set's evidence, MultiHop's gold facts of the articles cited).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tune_quotes import quote_settings, tuning_parser  # the script beside this one

from index import NewsIndex
from index.evaluate import build_index, load_questions
from index.evaluate_questions import QUOTED_SHARE, parse_time, quoted_share
from index.search import Evidence

ROOT = Path(__file__).resolve().parent.parent


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Weighted L2-regularised logistic regression by Newton's method; bias last."""
    x1 = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(x1.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x1 @ beta))
        grad = x1.T @ (w * (p - y)) + l2 * np.r_[beta[:-1], 0]
        hess = (x1 * (w * p * (1 - p))[:, None]).T @ x1 + l2 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument(
        "--everyday-weight", type=float, default=1.0, help="the everyday set's share in the fit"
    )
    parser.add_argument("--show", action="store_true", help="list the everyday misses of the fit")
    parser.add_argument("--quote", action="append", nargs="+", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    index = NewsIndex(args.index_dir, create=True)
    build_index(index, args.data)
    parity = 0 if args.half == "dev" else 1
    everyday = json.loads(args.questions.read_text(encoding="utf-8"))[parity::2]
    multihop = load_questions(args.data)[parity::2]
    rows = []  # (set, answerable, evidence, intent, passages, evidence sentences, gold urls)
    for item in everyday:
        intent = index.parse(item["question"], parse_time(item.get("asked_at")))
        passages = index.search(intent, 15)
        gold = {item["article_url"]} if item.get("article_url") else set()
        ev = index.searcher.evidence(intent, passages)
        rows.append(("everyday", bool(gold), ev, intent, passages, item.get("evidence"), gold))
    for item in multihop:
        intent = index.parse(item["query"])
        passages = index.search(intent, 15)
        facts = {e["url"]: e["fact"] for e in item["evidence_list"]}
        ev = index.searcher.evidence(intent, passages)
        rows.append(("multihop", bool(facts), ev, intent, passages, facts, set(facts)))

    if args.fit:
        x = np.array([r[2].features() for r in rows])
        y = np.array([float(r[1]) for r in rows])
        sets = np.array([r[0] for r in rows])
        share = (sets == "multihop").sum() / (sets == "everyday").sum()
        weight = np.where(sets == "everyday", args.everyday_weight * share, 1.0)
        beta = fit_logistic(x, y, weight)
        print("refusal =", tuple(round(float(b), 3) for b in beta))
        report(rows, tuple(beta))
        print("current:")
        report(rows, index.searcher.config.refusal)
        if args.show:
            for kind, answerable, ev, intent, *_ in rows:
                p = ev.answerable(tuple(beta))
                if kind == "everyday" and (p >= 0.5) != answerable:
                    wrong = "answered" if not answerable else "refused"
                    print(f"  {wrong} p={p:.2f} {intent.question!r} {ev}")

    for name, tuning in quote_settings(args.quote):
        quoted = {"everyday": [], "multihop": []}
        for kind, answerable, _, intent, passages, evidence, gold in rows:
            if not answerable:
                continue
            index.quote_tuning = tuning
            answer = index._build(intent, passages, 5)
            for citation in answer.citations:
                if citation.url in gold:
                    wanted = evidence if kind == "everyday" else [evidence[citation.url]]
                    share = quoted_share(wanted, citation.quotes)
                    quoted[kind].append(share >= QUOTED_SHARE)
        print(
            f"{name:50s} quoted everyday {np.mean(quoted['everyday']):.3f} "
            f"(n={len(quoted['everyday'])}) multihop facts {np.mean(quoted['multihop']):.3f} "
            f"(n={len(quoted['multihop'])})"
        )


def report(rows: list, weights: tuple[float, ...]) -> None:
    for kind in ("everyday", "multihop"):
        mine = [r for r in rows if r[0] == kind]
        keep = [Evidence.answerable(r[2], weights) >= 0.5 for r in mine]
        answerable = [k for k, r in zip(keep, mine, strict=True) if r[1]]
        null = [not k for k, r in zip(keep, mine, strict=True) if not r[1]]
        print(
            f"  {kind:9s} answered {np.mean(answerable):.3f} (n={len(answerable)})  "
            f"refused {np.mean(null):.3f} (n={len(null)})"
        )


if __name__ == "__main__":
    main()
