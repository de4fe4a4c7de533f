"""`newsbot ask` (one question, or a batch) and `newsbot timeline`, printed for a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator

from cli.common import add_filter_arguments, format_date, positive_int
from index import Answer, NewsIndex
from index.search import Filters
from services import paths
from services.settings import Settings


def render_plain(answer: Answer) -> str:
    """The answer as a person reads it in a terminal."""
    if answer.hint:
        return answer.hint
    if not answer.found:
        said = f"No relevant reporting found for: {answer.question}"
        return f"{said}\n{answer.note}" if answer.note else said
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


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        print("newsbot: ask takes a QUESTION or --batch FILE (not both)", file=sys.stderr)
        return 2
    if args.since and args.until and args.since >= args.until:
        print("newsbot: --since must be before --until", file=sys.stderr)
        return 2
    index = paths.open_index(settings)
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
    answer = paths.open_index(settings).timeline(args.topic, limit=args.limit)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_plain(answer))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
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
    add_filter_arguments(p)
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
