"""Ours against txtai's hybrid search, in one run, on the same chunks, questions and machine.

    python benchmarks/sidebyside.py --index-dir /tmp/mh --txtai-dir /tmp/txtai-mh

Each system runs in a child process of its own (so each peak RSS is its own):

- ours: `NewsIndex.answer` on every question (parse, encode, FAISS + FTS5 candidates, fusion,
  rerank, quotes, refusal), with the time spent in the question encoder, FAISS and FTS5 shown
  separately so the next bottleneck is visible;
- txtai 9.x: `Embeddings(hybrid=True)` (FAISS + its BM25) built on our chunks' embedded texts
  with the same model, then `search(question, 10)`.

Also: `newsbot ask` and `newsbot stats` cold starts (whole processes) and, with `--ingest`,
`newsbot ingest` of the corpus into a fresh folder. txtai is the optional `bench` extra
(`pip install -e '.[bench]'`), never a runtime dependency; the txtai index is built once into
`--txtai-dir` (minutes: it embeds every chunk) and reused.

Questions: the everyday set (answerable ones also score "right article first") and a sample
of MultiHop-RAG's. Figures are medians over the questions of one pass after a warm-up (with
`--passes N`, of the last of N passes: questions asked again, as popular ones are). With
`--warm`, ours first runs the read-ahead a serving bot runs in the background after it starts
(`index.warm`: common words' postings, the newest passages' sentences), its time reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
import checkout  # noqa: E402, F401  (this checkout's code, not an installed copy)
from measure import percentile  # noqa: E402

from corpus.models import normalise_url  # noqa: E402
from index.evaluate_questions import CITED  # noqa: E402

NEWSDATA = REPO.parent / "shared" / "newsdata"
EVERYDAY = REPO / "benchmarks" / "questions" / "everyday.json"
NOW = datetime(2023, 12, 31, tzinfo=UTC)  # the everyday set's "today"


def load_questions(data: Path, multihop: int, questions: Path = EVERYDAY) -> list[dict[str, Any]]:
    everyday = json.loads(questions.read_text(encoding="utf-8"))
    items = [
        {
            "set": questions.stem,
            "question": q["question"],
            "url": q.get("article_url"),
            "at": q.get("asked_at"),
        }
        for q in everyday
    ]
    hop = json.loads((data / "MultiHopRAG.json").read_text(encoding="utf-8"))
    step = max(1, len(hop) // multihop) if multihop else 0
    for q in hop[::step][:multihop] if step else []:
        items.append({"set": "multihop", "question": q["query"], "url": None})
    return items


def clock(item: dict[str, Any]) -> datetime:
    """The question's own time when the set gives one ("last week" is read against it)."""
    return datetime.fromisoformat(item["at"]) if item.get("at") else NOW


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the children ---------------------------------------------------------------------------


def timed(owner: Any, name: str, spent: dict[str, float], label: str | None = None) -> None:
    """Wrap `owner.name` so each call adds its seconds to `spent[label or name]`."""
    original = getattr(owner, name)
    key = label or name

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def run_ours(
    index_dir: Path, items: list[dict[str, Any]], passes: int = 1, warm: bool = False
) -> dict[str, Any]:
    from index import NewsIndex
    from index.search.bm25 import TermScores
    from index.vectors import Vectors

    index = NewsIndex(index_dir)
    spent: dict[str, float] = {}
    timed(Vectors, "search", spent)
    timed(Vectors, "cosines", spent)
    timed(TermScores, "__call__", spent, "bm25")  # cached term scores, or FTS5's OR query
    encoder = index.questions
    timed(encoder, "encode_question", spent)
    for item in items[:20]:  # warm-up: caches, the ONNX session, SQLite pages
        index.answer(item["question"], top=CITED, now=clock(item))
    for item in items * (passes - 1):  # earlier passes: a question asked again
        index.answer(item["question"], top=CITED, now=clock(item))
    warmed = None
    if warm:
        from index.warm import warm as read_ahead

        warmed = read_ahead(index.searcher).seconds
    rows = []
    for item in items:
        spent.clear()
        start = time.perf_counter()
        answer = index.answer(item["question"], top=CITED, now=clock(item))
        ms = (time.perf_counter() - start) * 1000
        lead = answer.citations[:1]
        rows.append(
            {
                "ms": ms,
                # as `newsbot eval questions` counts it: "also reported by" outlets count too
                "first": [
                    normalise_url(u) for c in lead for u in (c.url, *(o.url for o in c.also))
                ],
                "stages": {k: v * 1000 for k, v in spent.items()},
            }
        )
    return {
        "rows": rows,
        "rss_mb": peak_rss_mb(),
        "encoder": type(encoder).__name__,
        "warm_s": warmed,
    }


def txtai_chunks(data: Path) -> list[tuple[int, str, str]]:
    """(id, embedded text, article url) for every chunk, cut by our own chunker."""
    from corpus.loaders import load_path
    from index.chunking import chunk_article
    from index.embedder import Embedder

    embedder = Embedder()
    rows = []
    for article in load_path(data / "corpus.json").articles:
        for chunk in chunk_article(article, embedder.count_tokens, 256):
            rows.append((len(rows), chunk.embed_text, article.url or ""))
    return rows


def run_txtai(
    txtai_dir: Path, data: Path, items: list[dict[str, Any]], passes: int = 1
) -> dict[str, Any]:
    from txtai import Embeddings

    from index.embedder import resolve_model

    build_s = None
    urls_file = txtai_dir / "urls.json"
    embeddings = Embeddings(path=resolve_model("all-MiniLM-L6-v2"), hybrid=True, content=False)
    if (txtai_dir / "embeddings").exists() and urls_file.exists():
        embeddings.load(str(txtai_dir / "embeddings"))
        urls = json.loads(urls_file.read_text())
    else:
        chunks = txtai_chunks(data)
        start = time.perf_counter()
        embeddings.index([(i, text, None) for i, text, _ in chunks])
        build_s = time.perf_counter() - start
        txtai_dir.mkdir(parents=True, exist_ok=True)
        embeddings.save(str(txtai_dir / "embeddings"))
        urls = [url for _, _, url in chunks]
        urls_file.write_text(json.dumps(urls))
    for item in items[:20] + items * (passes - 1):
        embeddings.search(item["question"], 10)
    rows = []
    for item in items:
        start = time.perf_counter()
        hits = embeddings.search(item["question"], 10)
        ms = (time.perf_counter() - start) * 1000
        rows.append({"ms": ms, "first": [normalise_url(urls[int(hits[0][0])])] if hits else []})
    return {"rows": rows, "rss_mb": peak_rss_mb(), "build_s": build_s, "chunks": len(urls)}


# -- the parent -----------------------------------------------------------------------------


def child(args: argparse.Namespace, system: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--child",
            system,
            "--child-out",
            out.name,
            "--index-dir",
            str(args.index_dir),
            "--txtai-dir",
            str(args.txtai_dir),
            "--data",
            str(args.data),
            "--multihop",
            str(args.multihop),
            "--questions",
            str(args.questions),
            "--passes",
            str(args.passes),
            *(["--warm"] if args.warm else []),
        ]
        subprocess.run(command, check=True, cwd=REPO)
        return json.loads(Path(out.name).read_text())


def wall(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def summary(name: str, result: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
    lines = []
    for which in dict.fromkeys(i["set"] for i in items):
        ms = [r["ms"] for r, i in zip(result["rows"], items, strict=True) if i["set"] == which]
        if ms:
            lines.append(
                f"{name:6} {which:9} n={len(ms):4}  p50 {statistics.median(ms):6.1f} ms  "
                f"p99 {percentile(ms, 99):6.1f} ms"
            )
    golden = [(r, i) for r, i in zip(result["rows"], items, strict=True) if i["url"]]
    if golden:
        first = sum(normalise_url(i["url"]) in r["first"] for r, i in golden) / len(golden)
        lines.append(f"{name:6} {items[0]['set']} answerable: right article first {first:.3f}")
    lines.append(f"{name:6} peak RSS {result['rss_mb']:.0f} MB")
    return lines


STAGES = {
    "encode_question": "question encoder",
    "search": "FAISS search",
    "cosines": "FAISS lookups",
    "bm25": "FTS5 BM25",
}


def stage_lines(result: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
    """Each stage's p50 and p99 per question set: a MultiHop-RAG question is four times as
    many tokens for the encoder as an everyday one."""
    names = sorted({k for r in result["rows"] for k in r.get("stages", {})})
    out = []
    for which in dict.fromkeys(i["set"] for i in items):
        rows = [r for r, i in zip(result["rows"], items, strict=True) if i["set"] == which]
        for name in names:
            values = [r["stages"].get(name, 0.0) for r in rows]
            out.append(
                f"  ours stage {which:9} {STAGES.get(name, name):16} "
                f"p50 {statistics.median(values):6.2f} ms  p99 {percentile(values, 99):6.2f} ms"
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True, help="our MultiHop-RAG index")
    parser.add_argument("--txtai-dir", type=Path, default=Path("/tmp/txtai-multihop"))
    parser.add_argument("--data", type=Path, default=NEWSDATA)
    parser.add_argument("--multihop", type=int, default=500, help="MultiHop questions sampled")
    parser.add_argument(
        "--questions", type=Path, default=EVERYDAY, help="an everyday-style question file"
    )
    parser.add_argument("--runs", type=int, default=5, help="cold-start runs (median)")
    parser.add_argument(
        "--passes",
        type=int,
        default=1,
        help="ask every question this many times, time the last pass (2: questions asked before)",
    )
    parser.add_argument("--ingest", action="store_true", help="also time `newsbot ingest`")
    parser.add_argument(
        "--warm", action="store_true", help="ours: the serving bot's read-ahead first"
    )
    parser.add_argument("--skip-txtai", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=["ours", "txtai"], help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    items = load_questions(args.data, args.multihop, args.questions)

    if args.child:
        run: Callable[[], dict[str, Any]]
        if args.child == "ours":
            run = lambda: run_ours(args.index_dir, items, args.passes, args.warm)  # noqa: E731
        else:
            run = lambda: run_txtai(args.txtai_dir, args.data, items, args.passes)  # noqa: E731
        args.child_out.write_text(json.dumps(run()))
        return 0

    results: dict[str, Any] = {"ours": child(args, "ours")}
    if not args.skip_txtai:
        results["txtai"] = child(args, "txtai")
    timed = "one pass" if args.passes == 1 else f"the last of {args.passes} passes"
    lines = [f"{len(items)} questions; {timed} after 20 warm-up questions"]
    for name, result in results.items():
        lines += summary(name, result, items)
        if name == "ours":
            lines.append(f"  ours question encoder: {result['encoder']}")
            if result.get("warm_s") is not None:
                lines.append(f"  ours read-ahead before the pass: {result['warm_s']:.1f} s")
            lines += stage_lines(result, items)
        if result.get("build_s"):
            lines.append(f"txtai  index build {result['build_s']:.1f} s, {result['chunks']} chunks")
    if "txtai" in results:
        for which in dict.fromkeys(i["set"] for i in items):
            pair = [
                (o["ms"], t["ms"])
                for o, t, i in zip(
                    results["ours"]["rows"], results["txtai"]["rows"], items, strict=True
                )
                if i["set"] == which
            ]
            if pair:
                ratio = statistics.median(t for _, t in pair) / statistics.median(
                    o for o, _ in pair
                )
                lines.append(f"txtai p50 / ours p50 ({which}): {ratio:.2f}x")

    env = {**os.environ, "NEWSBOT_DATA_DIR": str(args.index_dir)}
    newsbot = [sys.executable, "-m", "cli.main"]
    ask = wall([*newsbot, "ask", "what did the fed decide"], env, args.runs)
    stats = wall([*newsbot, "stats"], env, args.runs)
    lines.append(
        f"cold start (median of {args.runs}): newsbot ask {ask:.2f} s, stats {stats:.2f} s"
    )
    results["cold"] = {"ask_s": ask, "stats_s": stats}
    if args.ingest:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "NEWSBOT_DATA_DIR": tmp}
            seconds = wall([*newsbot, "ingest", str(args.data / "corpus.json")], env, 1)
        lines.append(f"newsbot ingest of corpus.json: {seconds:.1f} s")
        results["ingest_s"] = seconds
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
