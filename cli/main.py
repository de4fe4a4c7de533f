"""newsbot: a news bot that answers questions with cited excerpts from the articles you give it.

Start with `newsbot ingest PATH` (files or folders of articles), then `newsbot ask "QUESTION"`,
`newsbot chat` (the bot in this terminal) or `newsbot serve` (the bot on Telegram).
"""

from __future__ import annotations

import argparse
import errno
import logging
import sqlite3
import sys

from cli import ask, evaluate, feeds, ingest, manage, serve
from db.sqlite import SchemaTooNew, StoreUnavailable, writable
from index import NewsIndexError
from services.settings import Settings


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("newsbot")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument("--version", action="version", version=f"newsbot {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for commands in (ingest, ask, manage, evaluate, serve, feeds):
        commands.add_commands(sub)
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
    except (NewsIndexError, SchemaTooNew) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:  # a damaged store, or one a read-only folder cannot hold
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except (sqlite3.OperationalError, OSError) as exc:
        if not _is_storage_error(exc):
            raise
        if not writable(settings.data_dir):
            print(
                f"newsbot: the data folder {settings.data_dir} is read-only ({exc}); make it "
                "writable, or point NEWSBOT_DATA_DIR at a writable copy.",
                file=sys.stderr,
            )
            return 1
        print(
            f"newsbot: cannot write to {settings.data_dir} ({exc}): is the disk full or "
            "read-only? What was committed before stays and answers; run the command again "
            "once there is room.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted; the index keeps everything committed before this", file=sys.stderr)
        return 130


def _is_storage_error(exc: BaseException) -> bool:
    """A full or read-only disk, as SQLite, FAISS or the OS word it."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EFBIG):
        return True
    text = str(exc).lower()
    return any(
        words in text
        for words in (
            "disk i/o error",
            "database or disk is full",
            "readonly database",
            "read-only",
        )
    )


if __name__ == "__main__":
    sys.exit(main())
