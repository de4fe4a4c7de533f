"""Ingest throughput vs bare `SentenceTransformer.encode`, ask latency, memory, size on disk.

Usage: python benchmarks/ingest_ask.py [--data ../shared/newsdata] [--questions 200] [--runs 1]
Prints one block of figures per run and the medians; all on the MultiHop-RAG corpus.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
from measure import percentile

from corpus.loaders import load_path
from index import NewsIndex
from index.chunking import chunk_article
from index.embedder import Embedder

ROOT = Path(__file__).resolve().parent.parent


def one_run(data: Path, questions: list[str], embedder: Embedder) -> dict[str, float]:
    articles = load_path(data / "corpus.json").articles
    with tempfile.TemporaryDirectory() as tmp:
        index = NewsIndex(Path(tmp) / "data", create=True, embedder=embedder)
        started = time.perf_counter()
        report = index.ingest(articles)
        ingest_s = time.perf_counter() - started

        texts = [
            c.embed_text for a in articles for c in chunk_article(a, embedder.count_tokens, 256)
        ]
        started = time.perf_counter()
        embedder.encode(texts)
        bare_s = time.perf_counter() - started

        index.answer(questions[0])  # warm
        latencies = []
        for question in questions:
            started = time.perf_counter()
            index.answer(question)
            latencies.append((time.perf_counter() - started) * 1000)
        size = index.stats().size_bytes
        index.close()
    return {
        "articles": len(articles),
        "chunks": report.chunks,
        "ingest_s": ingest_s,
        "ingest_chunks_per_s": report.chunks / ingest_s,
        "bare_encode_s": bare_s,
        "bare_chunks_per_s": len(texts) / bare_s,
        "ratio": (report.chunks / ingest_s) / (len(texts) / bare_s),
        "ask_p50_ms": percentile(latencies, 50),
        "ask_p99_ms": percentile(latencies, 99),
        "index_mb": size / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    queries = json.loads((args.data / "MultiHopRAG.json").read_text())
    questions = [q["query"] for q in queries[: args.questions]]
    embedder = Embedder()
    runs = []
    for number in range(args.runs):
        result = one_run(args.data, questions, embedder)
        runs.append(result)
        print(f"run {number + 1}: " + ", ".join(f"{k}={v:.3f}" for k, v in result.items()))
    print("median over", len(runs), "run(s):")
    for key in runs[0]:
        print(f"  {key:22s} {statistics.median(r[key] for r in runs):10.3f}")


if __name__ == "__main__":
    main()
