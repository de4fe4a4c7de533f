"""`newsbot eval multihop|questions`: the retrieval and answer benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.common import parse_date, positive_int
from index import NewsIndex
from services import paths
from services.settings import Settings


def eval_index(args: argparse.Namespace, settings: Settings) -> NewsIndex | None:
    """The MultiHop-RAG index for the benchmarks, built from `--data` on first use."""
    from index import evaluate

    data = args.data
    if not (data / "corpus.json").exists() or not (data / "MultiHopRAG.json").exists():
        print(f"newsbot: no corpus.json and MultiHopRAG.json in {data}", file=sys.stderr)
        return None
    index_dir = args.index_dir or settings.data_dir.parent / (settings.data_dir.name + "-eval")
    index = NewsIndex(
        index_dir,
        settings.embedding_model,
        create=True,
        question_backend=settings.question_backend,
        milvus_uri=paths.milvus_uri(settings.model_copy(update={"data_dir": index_dir})),
        database_url=args.database_url,
    )
    print(f"indexing {data / 'corpus.json'} into {index_dir} ...", file=sys.stderr)
    evaluate.build_index(index, data)
    if not args.cold:
        # as `newsbot serve` does at start: the latencies are those of the running bot
        from index.warm import warm

        warmed = warm(index.searcher)
        print(f"caches warmed as newsbot serve warms them ({warmed.seconds:.1f} s; --cold: not)")
    return index


def cmd_eval_multihop(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from index import evaluate

    index = eval_index(args, settings)
    if index is None:
        return 2
    questions = evaluate.load_questions(args.data)
    positions = range(len(questions))[: args.limit] if args.limit else None
    total = len(positions) if positions is not None else len(questions)
    with tqdm(total=total, desc="questions", disable=not sys.stderr.isatty()) as bar:
        result = evaluate.run_eval(index, questions, positions, lambda n: bar.update(1))
    print(result.format_table())
    if args.out:
        args.out.write_text(json.dumps(result.paper_format(), ensure_ascii=False, indent=1))
        print(f"per-question results written to {args.out}")
    return 0


def cmd_eval_questions(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from index import evaluate_questions

    try:
        items = evaluate_questions.load_question_file(args.file)
    except (OSError, ValueError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    items = items[: args.limit] if args.limit else items
    index = eval_index(args, settings)
    if index is None:
        return 2
    with tqdm(total=len(items), desc="questions", disable=not sys.stderr.isatty()) as bar:
        result = evaluate_questions.run_questions(index, items, args.now, lambda n: bar.update(1))
    print(result.format_table())
    if args.out:
        args.out.write_text(json.dumps(result.records, ensure_ascii=False, indent=1))
        print(f"per-question results written to {args.out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="retrieval and answer benchmarks",
        description="Benchmarks on the MultiHop-RAG corpus: the paper's retrieval protocol "
        "(multihop) or what a reader gets for a file of questions (questions).",
    )
    benchmarks = p.add_subparsers(dest="benchmark", required=True)
    default_data = Path("../shared/newsdata")

    def eval_options(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--data",
            type=Path,
            default=default_data,
            help="folder with corpus.json and MultiHopRAG.json (default ../shared/newsdata)",
        )
        q.add_argument(
            "--index-dir", type=Path, help="index to build or reuse (default DATA_DIR-eval)"
        )
        q.add_argument("--limit", type=positive_int, help="only the first N questions")
        q.add_argument(
            "--cold",
            action="store_true",
            help="measure latency without first warming the caches as newsbot serve does at "
            "start (each article's first question then pays for reading it)",
        )
        q.add_argument(
            "--database-url",
            help="the index's rows on this PostgreSQL database (with VECTOR_BACKEND=milvus; "
            "DATABASE_URL is not used here, so a benchmark never writes to a live bot's)",
        )

    q = benchmarks.add_parser(
        "multihop",
        help="MultiHop-RAG's retrieval protocol: Hits@10, Hits@4, MRR@10, MAP@10",
        description="Index the MultiHop-RAG corpus and run the paper's retrieval protocol "
        "(top 10 chunks, substring hits on gold facts) on both halves.",
    )
    eval_options(q)
    q.add_argument("--out", type=Path, help="write per-question results (paper's format)")
    q.set_defaults(func=cmd_eval_multihop)

    q = benchmarks.add_parser(
        "questions",
        help="score a question file on what the reader gets",
        description="Ask each question of FILE through the answer path the bot renders and "
        "score it: answered, right article first, right article cited, answering sentence "
        "quoted, unanswerable refused, latency; per style and per half.",
    )
    q.add_argument(
        "file",
        type=Path,
        help='JSON list of {"question", "article_url" or null, "evidence", "style", "asked_at"}',
    )
    eval_options(q)
    q.add_argument("--out", type=Path, help="write per-question records (JSON)")
    q.add_argument(
        "--now",
        type=parse_date,
        help="the clock for questions without asked_at (default: the real time)",
    )
    q.set_defaults(func=cmd_eval_questions)
