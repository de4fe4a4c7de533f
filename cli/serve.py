"""`newsbot serve` (the bot on Telegram) and `newsbot chat` (the bot in this terminal)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from services import paths
from services.settings import Settings

log = logging.getLogger("newsbot")


def _token(settings: Settings) -> str:
    token = settings.telegram_bot_token
    return token.get_secret_value().strip() if token else ""


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from telegram.error import InvalidToken, NetworkError

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
    redacting = setup_logging([*secret_parts(token), secret], verbose=args.verbose)
    index = paths.open_index(settings, serving=True)
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
    except InvalidToken:
        # PTB's own message quotes the whole token: never print it
        print(
            "newsbot: the Bot API rejected TELEGRAM_BOT_TOKEN: check it with @BotFather "
            f"(and TELEGRAM_BASE_URL, now {settings.telegram_base_url}).",
            file=sys.stderr,
        )
        return 1
    except NetworkError as exc:
        print(
            f"newsbot: cannot reach the Bot API at {settings.telegram_base_url} "
            f"({redacting.redact(str(exc))}); check the network and TELEGRAM_BASE_URL.",
            file=sys.stderr,
        )
        return 1
    finally:
        index.close()
    return 0


def chat_log(data_dir: Path) -> Path:
    """DATA_DIR/chat.log, or a file in the temporary folder when the data folder is read-only."""
    if os.access(data_dir if data_dir.exists() else data_dir.parent, os.W_OK):
        return data_dir / "chat.log"
    return Path(tempfile.gettempdir()) / "newsbot-chat.log"


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.logs import secret_parts, setup_logging
    from cli.chat import run_chat
    from emulator import DEFAULT_TOKEN

    # log lines go to a file: the terminal is the chat
    logfile = None if args.verbose else chat_log(settings.data_dir)
    setup_logging(secret_parts(DEFAULT_TOKEN), verbose=args.verbose, logfile=logfile)
    settings = settings.model_copy(update={"feed_polling": args.feeds})
    index = paths.open_index(settings, serving=True)
    try:
        asyncio.run(run_chat(settings, index))
    except KeyboardInterrupt:
        print()
    finally:
        index.close()
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
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
