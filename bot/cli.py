"""newsbot: a news bot that answers questions with cited excerpts from the articles you give it.

Start with `newsbot ingest PATH` (files or folders of articles), then `newsbot ask "QUESTION"`,
`newsbot chat` (the bot in this terminal) or `newsbot serve` (the bot on Telegram).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bot.feeds_cli import add_feed_commands, ingest_urls, is_url
from bot.settings import Settings
from corpus.loaders import FORMATS, load_path
from index import Answer, NewsIndex, NewsIndexError
from index.search import Filters

log = logging.getLogger("newsbot")
SHOWN_OUTLETS = 20


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("newsbot")
    except PackageNotFoundError:
        return "unknown"


def open_index(settings: Settings, *, create: bool = False) -> NewsIndex:
    return NewsIndex(settings.data_dir, settings.embedding_model, create=create)


def parse_date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (use YYYY-MM-DD): {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def format_date(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else "undated"


def render_plain(answer: Answer) -> str:
    """The answer as a person reads it in a terminal."""
    if answer.hint:
        return answer.hint
    if not answer.found:
        return f"No relevant reporting found for: {answer.question}"
    if answer.timeline:
        lines = [f"Timeline of “{answer.question}”:", ""]
        for citation in answer.citations:
            outlet = citation.source or "unknown outlet"
            said = " ".join(citation.quotes) or citation.title
            lines.append(f"{format_date(citation.published_at)}  {outlet}: {said}")
            if citation.url:
                lines.append(f"    {citation.url}")
        return "\n".join(lines)
    lines = [f"Q: {answer.question}", ""]
    if answer.note:
        lines[1:1] = [answer.note]
    for number, citation in enumerate(answer.citations, start=1):
        outlet = citation.source or "unknown outlet"
        lines.append(f"[{number}] {citation.title}")
        lines.append(f"    {outlet}, {format_date(citation.published_at)}")
        for quote in citation.quotes:
            lines.append(f"    “{quote}”")
        if citation.url:
            lines.append(f"    {citation.url}")
        lines.append("")
    return "\n".join(lines).rstrip()


# -- commands -------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if any(is_url(p) for p in args.paths):
        return ingest_urls(args.paths, settings)
    loaded = [load_path(path) for path in args.paths]
    articles = [a for result in loaded for a in result.articles]
    errors = [e for result in loaded for e in result.errors]
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
    index = open_index(settings, create=True)
    with Progress(len(articles)) as progress:
        report = index.ingest(articles, progress=progress.done, on_chunked=progress.chunked)
    report.failed = len(errors)
    print(f"ingested into {settings.data_dir}: {report.summary()}")
    if errors:
        print(
            f"newsbot: {plural(len(errors), 'input')} could not be read (see above); "
            f"the rest was ingested. Readable formats: {FORMATS}",
            file=sys.stderr,
        )
        return 1
    return 0


class Progress:
    """Embedding progress: a bar on a terminal, else a line every `every` seconds (articles,
    chunks, rate, time left), so a log or CI shows that a long ingest is moving."""

    def __init__(self, articles: int, every: float = 5.0) -> None:
        from tqdm import tqdm

        self.articles, self.every = articles, every
        self.total = 0
        self.terminal = sys.stderr.isatty()
        self.bar = tqdm(total=0, unit="chunk", desc="embedding", disable=not self.terminal)
        self.started = self.last = time.monotonic()

    def chunked(self, count: int) -> None:
        self.total += count
        self.bar.total = self.total
        self.bar.refresh()

    def done(self, count: int) -> None:
        self.bar.update(count - self.bar.n)
        now = time.monotonic()
        if self.terminal or now - self.last < self.every:
            return
        self.last = now
        rate = count / max(now - self.started, 1e-9)
        left = (self.total - count) / rate if rate else 0.0
        articles = plural(self.articles, "article")
        print(
            f"embedded {count:,} of {plural(self.total, 'chunk')} ({articles}), "
            f"{rate:.0f} chunks/s, about {left:.0f} s left",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        print("newsbot: ask takes a QUESTION or --batch FILE (not both)", file=sys.stderr)
        return 2
    if args.since and args.until and args.since >= args.until:
        print("newsbot: --since must be before --until", file=sys.stderr)
        return 2
    index = open_index(settings)
    sources = known_sources(index, args.source or [])
    if sources is None:
        return 2
    filters = Filters(since=args.since, until=args.until, sources=sources)
    if args.batch is not None:
        return ask_batch(index, args.batch, args.top, filters)
    answer = index.answer(args.question, top=args.top, filters=filters)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_plain(answer))
    return 0


def known_sources(index: NewsIndex, asked: list[str]) -> tuple[str, ...] | None:
    """The outlets of `--source` as the index spells them; None (after saying why) when one
    is not in the index."""
    import difflib

    outlets = {source.lower(): source for source, _, _ in index.store.sources()}
    found = []
    for name in asked:
        if name.lower() in outlets:
            found.append(outlets[name.lower()])
            continue
        close = difflib.get_close_matches(name.lower(), list(outlets), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(outlets[c]) for c in close)}?" if close else ""
        print(
            f"newsbot: no outlet named {name!r} in the index{hint} (`newsbot stats --all` "
            "lists them)",
            file=sys.stderr,
        )
        return None
    return tuple(found)


def batch_questions(lines: Iterable[str]) -> Iterator[str]:
    """One question a line, or JSON Lines with a "question" field; blank lines skipped."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("question"), str):
                yield record["question"]
                continue
        yield line


def ask_batch(index: NewsIndex, path: str, top: int, filters: Filters) -> int:
    """Answer many questions with the model loaded once: one JSON answer a line on stdout."""
    source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with source:
        for question in batch_questions(source):
            started = time.perf_counter()
            answer = index.answer(question, top=top, filters=filters)
            latency = (time.perf_counter() - started) * 1000
            record = answer.to_dict() | {"latency_ms": round(latency, 2)}
            print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    answer = open_index(settings).timeline(args.topic, limit=args.limit)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_plain(answer))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    stats = open_index(settings).stats()
    if args.json:
        data = stats.to_dict() | {"sources": [[s, n] for s, n, _ in stats.sources]}
        print(json.dumps(data, indent=2))
        return 0
    print(f"data directory: {settings.data_dir}")
    print(
        f"{plural(stats.articles, 'article')}, {plural(stats.chunks, 'chunk')}, "
        f"{plural(len(stats.sources), 'outlet')}"
    )
    print(f"published: {format_date(stats.first)} .. {format_date(stats.last)}")
    print(f"model: {stats.model} ({stats.dim} dimensions)")
    print(f"size on disk: {stats.size_bytes / 1e6:.1f} MB")
    shown = stats.sources if args.all else stats.sources[:SHOWN_OUTLETS]
    for source, count, latest in shown:
        print(f"  {count:5d}  {source}  (latest {format_date(latest)})")
    if len(stats.sources) > len(shown):
        print(f"  ... and {len(stats.sources) - len(shown)} more (--all lists every outlet)")
    return 0


def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    if args.since and args.until and args.since >= args.until:
        print("newsbot: --since must be before --until", file=sys.stderr)
        return 2
    index = open_index(settings)
    sources = known_sources(index, args.source or [])
    if sources is None:
        return 2
    rows = index.store.list_articles(Filters(since=args.since, until=args.until, sources=sources))
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        outlet = row.source or "unknown outlet"
        print(f"{row.id}  {format_date(row.published_at):>11}  {outlet[:28]:<28}  {row.title}")
    print(f"{plural(len(rows), 'article')}", file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    index = open_index(settings)
    if index.remove(args.id):
        print(f"removed {args.id}")
        return 0
    print(f"no article with id {args.id}", file=sys.stderr)
    return 1


def eval_index(args: argparse.Namespace, settings: Settings) -> NewsIndex | None:
    """The MultiHop-RAG index for the benchmarks, built from `--data` on first use."""
    from index import evaluate

    data = args.data
    if not (data / "corpus.json").exists() or not (data / "MultiHopRAG.json").exists():
        print(f"newsbot: no corpus.json and MultiHopRAG.json in {data}", file=sys.stderr)
        return None
    index_dir = args.index_dir or settings.data_dir.parent / (settings.data_dir.name + "-eval")
    index = NewsIndex(index_dir, settings.embedding_model, create=True)
    print(f"indexing {data / 'corpus.json'} into {index_dir} ...", file=sys.stderr)
    evaluate.build_index(index, data)
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


def _token(settings: Settings) -> str:
    token = settings.telegram_bot_token
    return token.get_secret_value().strip() if token else ""


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import ALLOWED_UPDATES, build_application, webhook_options
    from bot.logs import secret_parts, setup_logging

    token = _token(settings)
    if not token:
        print(
            "newsbot: TELEGRAM_BOT_TOKEN is not set. Put the token from @BotFather in .env "
            "(see .env.example) or the environment; or try the bot locally with `newsbot chat`.",
            file=sys.stderr,
        )
        return 2
    if args.webhook and not settings.webhook_url:
        print(
            "newsbot: --webhook needs WEBHOOK_URL (the public HTTPS URL Telegram posts to); "
            "also see WEBHOOK_LISTEN, WEBHOOK_PORT and WEBHOOK_SECRET in .env.example.",
            file=sys.stderr,
        )
        return 2
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    setup_logging([*secret_parts(token), secret], verbose=args.verbose)
    index = open_index(settings)
    application = build_application(settings, index)
    try:
        if args.webhook:
            options = webhook_options(settings)
            if not secret:
                log.warning("WEBHOOK_SECRET is not set: using a random secret for this run")
            log.info(
                "listening on %s:%s for %s",
                options["listen"],
                options["port"],
                settings.webhook_url,
            )
            application.run_webhook(**options)
        else:
            log.info("polling Telegram for updates; Ctrl-C stops")
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        index.close()
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.chat import run_chat
    from bot.logs import secret_parts, setup_logging
    from emulator import DEFAULT_TOKEN

    # log lines go to a file: the terminal is the chat
    logfile = None if args.verbose else settings.data_dir / "chat.log"
    setup_logging(secret_parts(DEFAULT_TOKEN), verbose=args.verbose, logfile=logfile)
    settings = settings.model_copy(update={"feed_polling": args.feeds})
    index = open_index(settings)
    try:
        asyncio.run(run_chat(settings, index))
    except KeyboardInterrupt:
        print()
    finally:
        index.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument("--version", action="version", version=f"newsbot {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "ingest",
        help="add articles from files, folders or web pages",
        description="Add articles to the index (NEWSBOT_DATA_DIR). Unchanged articles are "
        "skipped, changed ones replaced; a file that cannot be read is named with the reason "
        "and the exit status is 1. Readable formats: " + FORMATS + ". Embedding runs on the "
        "CPU: about 35 chunks a second on two cores (the 609-article MultiHop-RAG corpus takes "
        "about 4 minutes and 1.5 GB of memory).",
    )
    p.add_argument("paths", nargs="+", help="files, folders or web page URLs")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "ask",
        help="answer a question with cited excerpts",
        description="Answer a question from the index: the sentences that answer it, with "
        "outlet, date and link; or 'no relevant reporting'.",
    )
    p.add_argument("question", nargs="?", help="the question, in quotes")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="answer every question of FILE (one a line, or JSONL with a question field; - for "
        "stdin): one JSON answer a line, with latency_ms",
    )
    p.add_argument("--top", type=positive_int, default=3, help="articles to cite (default 3)")
    p.add_argument("--since", type=parse_date, help="only articles published on/after DATE")
    p.add_argument("--until", type=parse_date, help="only articles published before DATE")
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "timeline",
        help="a story's reports in date order",
        description="The reports on a story in date order, one line each: date, outlet, the "
        "sentence that says what happened, link.",
    )
    p.add_argument("topic", help="the story, in a few words (e.g. 'Sam Altman OpenAI board')")
    p.add_argument(
        "--limit", type=positive_int, default=10, help="at most this many reports (default 10)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser(
        "stats",
        help="what the index holds",
        description="Articles, chunks, outlets, dates, model and size of the index.",
    )
    p.add_argument("--all", action="store_true", help="list every outlet (default: the top 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "articles",
        help="list the articles: id, date, outlet, title",
        description="The indexed articles, newest first: the id (for `newsbot remove`), date, "
        "outlet and title.",
    )
    p.add_argument("--source", action="append", help="only this outlet (repeatable)")
    p.add_argument("--since", type=parse_date, help="only articles published on/after DATE")
    p.add_argument("--until", type=parse_date, help="only articles published before DATE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser(
        "remove",
        help="delete one article by id",
        description="Delete one article and its passages from the index.",
    )
    p.add_argument("id", help="the article's id, as `newsbot articles` lists it")
    p.set_defaults(func=cmd_remove)

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

    p = sub.add_parser(
        "serve",
        help="run the Telegram bot (long polling, or --webhook)",
        description="Run the bot on Telegram with TELEGRAM_BOT_TOKEN: long polling, or a "
        "webhook on WEBHOOK_URL (listening on WEBHOOK_LISTEN:WEBHOOK_PORT, checking "
        "WEBHOOK_SECRET).",
    )
    p.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on WEBHOOK_URL (WEBHOOK_LISTEN, WEBHOOK_PORT, WEBHOOK_SECRET)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "chat",
        help="talk to the bot in this terminal (no Telegram needed)",
        description="The same bot and handlers, talking to a local Bot API emulator: type "
        "questions and commands as in Telegram; 'more' shows the next results, a number picks "
        "a button. Ctrl-D ends it. Log lines go to DATA_DIR/chat.log (-v: to the terminal).",
    )
    p.add_argument(
        "--feeds", action="store_true", help="poll the followed feeds in the background too"
    )
    p.set_defaults(func=cmd_chat)
    add_feed_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "sentence_transformers", "transformers", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    try:
        return int(args.func(args, settings) or 0)
    except NewsIndexError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the index keeps everything committed before this", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
