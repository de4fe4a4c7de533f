"""Fit the refusal model and compare quote settings on the dev halves (even positions) of the
everyday-question set and of MultiHop-RAG.

Usage: python benchmarks/tune_answers.py --index-dir DIR [--questions FILE] [--also FILE]...
          [--half dev|heldout] [--keep FEATURE]...
          [--fit] [--quote name=value ...]...

`--fit` fits the logistic refusal model (`RetrievalConfig.refusal`) on the chosen half: every
question's `Evidence` features from the product's own search, labelled answerable or not, the
everyday questions weighted so both sets count alike. It prints the weights and, for the
decision threshold 0.5, the share refused of each set's unanswerable questions and answered of
its answerable ones. `--grid FEATURE` sets one feature's weight with the bias instead (for a
feature too rare to fit alongside the others), each `--also` set counted on its own. Each
`--quote` group is one `QuoteWeights` setting scored on "quoted" (the everyday sets' evidence,
MultiHop's gold facts of the articles cited).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
import numpy as np
from tune_quotes import quote_settings, tuning_parser  # the script beside this one

from index import NewsIndex
from index.evaluate import build_index, load_questions
from index.evaluate_questions import QUOTED_SHARE, parse_time, quoted_share
from index.search import Evidence

ROOT = Path(__file__).resolve().parent.parent
FEATURES = [f.name for f in fields(Evidence)]  # in the order of Evidence.features()


def fit_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-2, offset: np.ndarray | None = None
) -> np.ndarray:
    """Weighted L2-regularised logistic regression by Newton's method; bias last. `offset`
    is added to every row's log-odds (the part of the model that is not fitted)."""
    x1 = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(x1.shape[1])
    base = np.zeros(len(x)) if offset is None else offset
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x1 @ beta + base)))
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
    parser.add_argument(
        "--also", type=Path, action="append", default=[], help="another set pooled with --questions"
    )
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        choices=FEATURES,
        help="a feature whose weight stays as it is (set by hand, too rare to fit)",
    )
    parser.add_argument(
        "--grid",
        choices=FEATURES,
        help="set one feature's weight and the bias on a grid, the rest as they are",
    )
    parser.add_argument("--quote", action="append", nargs="+", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    index = NewsIndex(args.index_dir, create=True)
    build_index(index, args.data)
    parity = 0 if args.half == "dev" else 1
    everyday = [
        (path.stem, item)
        for path in (args.questions, *args.also)
        for item in json.loads(path.read_text(encoding="utf-8"))[parity::2]
    ]
    multihop = load_questions(args.data)[parity::2]
    rows = []  # (set, answerable, evidence, intent, passages, evidence sentences, gold urls)
    for name, item in everyday:
        intent = index.parse(item["question"], parse_time(item.get("asked_at")))
        passages = index.search(intent, 15)
        gold = {item["article_url"]} if item.get("article_url") else set()
        ev = index.searcher.evidence(intent, passages)
        rows.append((name, bool(gold), ev, intent, passages, item.get("evidence"), gold))
    for item in multihop:
        intent = index.parse(item["query"])
        passages = index.search(intent, 15)
        facts = {e["url"]: e["fact"] for e in item["evidence_list"]}
        ev = index.searcher.evidence(intent, passages)
        rows.append(("multihop", bool(facts), ev, intent, passages, facts, set(facts)))

    if args.grid:
        grid(rows, index.searcher.config.refusal, args.grid)
    if args.fit:
        x = np.array([r[2].features() for r in rows])
        y = np.array([float(r[1]) for r in rows])
        sets = np.array([r[0] for r in rows])
        share = (sets == "multihop").sum() / (sets != "multihop").sum()
        weight = np.where(sets != "multihop", args.everyday_weight * share, 1.0)
        kept = [FEATURES.index(name) for name in args.keep]
        free = [i for i in range(len(FEATURES)) if i not in kept]
        current = np.array(index.searcher.config.refusal[:-1])
        offset = x[:, kept] @ current[kept] if kept else None
        fitted = fit_logistic(x[:, free], y, weight, offset=offset)
        beta = np.zeros(len(FEATURES) + 1)
        beta[free], beta[kept], beta[-1] = fitted[:-1], current[kept], fitted[-1]
        print("refusal =", tuple(round(float(b), 3) for b in beta))
        report(rows, tuple(beta))
        print("current:")
        report(rows, index.searcher.config.refusal)
        if args.show:
            for kind, answerable, ev, intent, *_ in rows:
                p = ev.answerable(tuple(beta))
                if kind != "multihop" and (p >= 0.5) != answerable:
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
                    wanted = [evidence[citation.url]] if kind == "multihop" else evidence
                    share = quoted_share(wanted, citation.quotes)
                    quoted["multihop" if kind == "multihop" else "everyday"].append(
                        share >= QUOTED_SHARE
                    )
        print(
            f"{name:50s} quoted everyday {np.mean(quoted['everyday']):.3f} "
            f"(n={len(quoted['everyday'])}) multihop facts {np.mean(quoted['multihop']):.3f} "
            f"(n={len(quoted['multihop'])})"
        )


def grid(rows: list, weights: tuple[float, ...], feature: str) -> None:
    """The settings of one feature's weight (0 to -40) and of the bias (-0.5 to +2 from now)
    that refuse the most (mean over the sets) while every set still answers at least 0.98 of
    its answerable questions; the five best."""
    k = FEATURES.index(feature)
    x = np.array([r[2].features() for r in rows])
    y = np.array([r[1] for r in rows])
    sets = np.array([r[0] for r in rows])
    names = list(dict.fromkeys(sets))
    found = []
    for weight in np.arange(0.0, -40.1, -2.5):
        for shift in np.arange(-0.5, 2.01, 0.25):
            beta = np.array(weights)
            beta[k], beta[-1] = weight, beta[-1] + shift
            keep = x @ beta[:-1] + beta[-1] > 0
            answered = [keep[(sets == n) & y].mean() for n in names]
            refused = [(~keep[(sets == n) & ~y]).mean() for n in names]
            if min(answered) >= 0.98:
                found.append((float(np.mean(refused)), weight, shift, answered, refused))
    found.sort(key=lambda item: (-item[0], -item[1]))
    for mean, weight, shift, answered, refused in found[:5]:
        cells = " ".join(
            f"{n} answered {a:.3f} refused {r:.3f}"
            for n, a, r in zip(names, answered, refused, strict=True)
        )
        print(f"{feature} {weight:6.1f} bias {shift:+.2f}: refused {mean:.3f} | {cells}")


def report(rows: list, weights: tuple[float, ...]) -> None:
    for kind in dict.fromkeys(r[0] for r in rows):
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
