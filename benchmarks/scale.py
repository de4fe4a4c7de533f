"""A million chunks: ingest that appends, the vector index chosen by size, questions, memory.

    python benchmarks/scale.py --chunks 1000000 --data-dir /tmp/scale-1m   # the full run
    python benchmarks/scale.py --chunks 20000                               # what CI runs

Articles are generated (topic words mixed with everyday words, so FTS5 has real work), and
their vectors too: embedding a million chunks with the model would take eight hours on two
cores, so a stand-in embedder gives each chunk its topic's centre plus noise (unit vectors
clustered as news vectors are). Everything else is the real code: `NewsIndex.ingest` in batches
(SQLite, FTS5, sentence vectors, a new FAISS segment per batch, merges, IVF above the size
threshold), then, in a fresh process as a server would open it, `NewsIndex.answer` on keyword
questions with the real ONNX question encoder. Reported: ingest time and how much of the
stored vectors each batch rewrote, segment layout, recall@10 of the vector search against
exact search over the generated vectors, question p50/p99, and peak RSS of both processes.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import checkout  # noqa: F401  (this checkout's code, not an installed copy)
import numpy as np

from corpus.models import Article
from index import NewsIndex
from index import vectors as vectors_module
from index.question_encoder import load_or_export

DIM = 384
CHUNKS_PER_TOPIC = 200  # stories: about this many chunks share a topic at any size
SEED = 11
_TOPIC = re.compile(r"\bT(\d+)\b")
SYLLABLES = (
    "ka lo mi ne ru sa ti vo be da fi gu ho ja ke li mo nu pa re si to ul ve wa xi yo ze".split()
)


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES, rng.integers(2, 5))))
    return sorted(words)


class Topics:
    """Each topic: a centre vector and eight words of its own."""

    def __init__(self, chunks: int) -> None:
        self.count = max(20, chunks // CHUNKS_PER_TOPIC)
        rng = np.random.default_rng(SEED)
        centres = rng.standard_normal((self.count, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.common = vocabulary(3_000, rng)
        special = vocabulary(self.count * 8 + 3_000, rng)
        special = [w for w in special if w not in set(self.common)]
        self.words = [special[t * 8 : t * 8 + 8] for t in range(self.count)]

    def vector(self, topic: int, key: int) -> np.ndarray:
        """The chunk's vector: deterministic in (topic, key), so exact search can redo it."""
        noise = np.random.default_rng([SEED, topic, key]).standard_normal(DIM).astype(np.float32)
        vector = self.centres[topic] + 0.045 * noise
        return vector / np.linalg.norm(vector)


class StandInEmbedder:
    """What ingest needs of an embedder, without the model: token counts and vectors."""

    dim = DIM

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.name = "all-MiniLM-L6-v2"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 64
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        passages = np.zeros((len(texts), DIM), np.float32)
        for row, text in enumerate(texts):
            topic = int(_TOPIC.search(text).group(1))
            passages[row] = self.topics.vector(topic, hash_text(text))
        return passages, [
            np.repeat(p[None, :], len(s), axis=0) for p, s in zip(passages, spans, strict=False)
        ]


def hash_text(text: str) -> int:
    return int.from_bytes(text[-40:].encode()[:8].ljust(8, b"\0"), "little") % (2**31)


def articles(topics: Topics, start: int, count: int) -> list[Article]:
    rng = np.random.default_rng([SEED, start])
    out = []
    for n in range(start, start + count):
        topic = int(rng.integers(topics.count))
        own, common = topics.words[topic], topics.common
        sentences = []
        for k in range(10):
            picked = [*rng.choice(own, 3), *rng.choice(common, 9)]
            rng.shuffle(picked)
            sentences.append(" ".join(picked).capitalize() + f" {n}x{k}.")
        out.append(
            Article(
                title=f"T{topic} report {n}",
                body=" ".join(sentences),
                source=f"Outlet {n % 40}",
                url=f"https://scale.example/{n}",
            )
        )
    return out


def build(args: argparse.Namespace) -> dict[str, Any]:
    topics = Topics(args.chunks)
    index = NewsIndex(
        args.data_dir, create=True, embedder=StandInEmbedder(topics), max_chunk_tokens=64
    )
    started = time.perf_counter()
    made = batch_no = 0
    rewritten = written = 0
    while index.stats().chunks < args.chunks:
        before = {p.name: p.stat().st_mtime_ns for p in args.data_dir.glob("vectors-*.faiss")}
        index.ingest(articles(topics, made, args.batch_articles), batch_chunks=1 << 30)
        made += args.batch_articles
        batch_no += 1
        after = {p.name: p.stat() for p in args.data_dir.glob("vectors-*.faiss")}
        rewritten += sum(1 for n, t in before.items() if n in after and after[n].st_mtime_ns != t)
        written += sum(stat.st_size for n, stat in after.items() if n not in before)
        if batch_no % 10 == 0:
            print(
                f"  {index.stats().chunks:,} chunks, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    seconds = time.perf_counter() - started
    vectors = index.vectors()
    layout = [
        (s.name, len(s), type(__import__("faiss").downcast_index(s.index.index)).__name__)
        for s in vectors.segments
    ]
    stored = sum(p.stat().st_size for p in args.data_dir.glob("vectors-*.faiss"))
    build_rss = peak_rss_mb()
    load_or_export(args.data_dir, "all-MiniLM-L6-v2")  # the question model, as ingest leaves it
    stats = index.stats()
    index.close()
    return {
        "chunks": stats.chunks,
        "articles": stats.articles,
        "ingest_s": seconds,
        "batches": batch_no,
        "files_rewritten_in_place": rewritten,
        # vector bytes written over the build / bytes stored at the end (merges rewrite some)
        "vector_write_amplification": written / max(stored, 1),
        "segments": layout,
        "build_rss_mb": build_rss,
        "disk_mb": stats.size_bytes / 2**20,
    }


def serve(args: argparse.Namespace) -> dict[str, Any]:
    """As a server: open the index, measure recall and question latency."""
    topics = Topics(args.chunks)
    started = time.perf_counter()
    index = NewsIndex(args.data_dir)
    open_s = time.perf_counter() - started
    vectors = index.vectors()
    # exact search over the generated vectors (made again from each chunk's topic and text)
    rng = np.random.default_rng(5)
    queries = []
    for _ in range(args.recall_queries):
        query = topics.centres[int(rng.integers(topics.count))]
        query = query + 0.03 * rng.standard_normal(DIM).astype(np.float32)
        queries.append(query / np.linalg.norm(query))
    best: list[list[tuple[float, int]]] = [[] for _ in queries]
    rows = index.store.conn.execute(
        "SELECT c.id, a.title, substr(c.text, -40) FROM chunks c"
        " JOIN articles a ON a.id = c.article_id"
    )
    while block := rows.fetchmany(50_000):
        ids = np.array([row[0] for row in block])
        matrix = np.stack(
            [
                topics.vector(int(_TOPIC.search(title).group(1)), hash_text(tail))
                for _, title, tail in block
            ]
        )
        scores = matrix @ np.stack(queries).T
        for q in range(len(queries)):
            top = np.argsort(-scores[:, q])[:10]
            best[q] = sorted(
                [*best[q], *zip(scores[top, q].tolist(), ids[top].tolist(), strict=False)]
            )[-10:]
    recalls = []
    for q, query in enumerate(queries):
        exact = {i for _, i in best[q]}
        found = {i for i, _ in vectors.search(query, 10)}
        recalls.append(len(found & exact) / 10)
    questions = []
    for _ in range(args.questions):
        topic = int(rng.integers(topics.count))
        questions.append(" ".join(rng.choice(topics.words[topic], 3)))
    for question in questions[:10]:
        index.answer(question)
    latencies = []
    for question in questions:
        started = time.perf_counter()
        index.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
    ordered = sorted(latencies)
    return {
        "open_s": open_s,
        "recall_at_10": statistics.mean(recalls),
        "question_p50_ms": statistics.median(latencies),
        "question_p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "serve_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/newsbot-scale"))
    parser.add_argument("--batch-articles", type=int, default=1_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--recall-queries", type=int, default=50)
    parser.add_argument(
        "--approximate-from",
        type=int,
        default=vectors_module.APPROXIMATE_FROM,
        help="segments this big are IVF (lower it to exercise IVF on a small run)",
    )
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    vectors_module.APPROXIMATE_FROM = args.approximate_from
    if args.serve_only:
        print(json.dumps(serve(args)))
        return 0
    if args.data_dir.exists():
        sys.exit(f"{args.data_dir} exists: give a new --data-dir")
    built = build(args)
    child = subprocess.run(
        [sys.executable, __file__, "--serve-only", "--data-dir", str(args.data_dir),
         "--chunks", str(args.chunks),
         "--questions", str(args.questions), "--recall-queries", str(args.recall_queries),
         "--approximate-from", str(args.approximate_from)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    served = json.loads(child.stdout.strip().splitlines()[-1])
    result = {**built, **served}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
