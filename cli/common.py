"""What the commands share: argument types, number and date wording, error lines."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


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


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """--source / --since / --until, the same for every command that narrows the articles."""
    parser.add_argument("--since", type=parse_date, help="only articles published on/after DATE")
    parser.add_argument("--until", type=parse_date, help="only articles published before DATE")
    parser.add_argument("--source", action="append", help="only this outlet (repeatable)")


def error(message: str) -> None:
    """`newsbot: message` on stderr."""
    print(f"newsbot: {message}", file=sys.stderr)
