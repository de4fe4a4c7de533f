"""`newsbot stats`, `newsbot articles` and `newsbot remove`: what the index holds."""

from __future__ import annotations

import argparse
import json
import sys

from cli.ask import known_sources
from cli.common import add_filter_arguments, format_date, plural
from index.search import Filters
from index.stats import DAMAGED_VECTORS
from index.store.schema import REINGEST_WARNING
from services import paths
from services.settings import Settings

SHOWN_OUTLETS = 20


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    index = paths.open_index(settings)
    stats = index.stats()
    if args.json:
        data = stats.to_dict() | {"sources": [[s, n] for s, n, _ in stats.sources]}
        print(json.dumps(data, indent=2))
        return 0
    print(f"data directory: {settings.data_dir}")
    if index.store.postgres:
        print(f"articles and chunks: {index.store.path}")  # (the URL without its password)
    if index.milvus_uri:
        print(f"vectors and BM25: Milvus at {index.milvus_uri}")
    print(
        f"{plural(stats.articles, 'article')}, {plural(stats.chunks, 'chunk')}, "
        f"{plural(len(stats.sources), 'outlet')}"
    )
    print(f"published: {format_date(stats.first)} .. {format_date(stats.last)}")
    print(f"model: {stats.model} ({stats.dim} dimensions)")
    print(f"size on disk: {stats.size_bytes / 1e6:.1f} MB")
    if stats.missing_sentence_vectors:
        print(REINGEST_WARNING % stats.missing_sentence_vectors)
    if stats.damaged_vector_files:
        print(DAMAGED_VECTORS % (", ".join(stats.damaged_vector_files), settings.data_dir))
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
    index = paths.open_index(settings)
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
    index = paths.open_index(settings)
    if index.remove(args.id):
        print(f"removed {args.id}")
        return 0
    print(f"no article with id {args.id}", file=sys.stderr)
    return 1


def add_commands(sub: argparse._SubParsersAction) -> None:
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
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser(
        "remove",
        help="delete one article by id",
        description="Delete one article and its passages from the index.",
    )
    p.add_argument("id", help="the article's id, as `newsbot articles` lists it")
    p.set_defaults(func=cmd_remove)
