"""`newsbot chat`: talk to the real bot in a terminal, without Telegram.

The local Bot API emulator stands in for Telegram, and the very same `build_application` runs
against it over HTTP (base_url). Each line read is sent as a private message from a console
user; the bot's replies are printed as the plain text a person would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.app import build_application
from bot.emulator import BotApiEmulator
from bot.settings import Settings
from index import NewsIndex

CONSOLE_USER = 100_001  # the console user's id, also the private chat's id
PROMPT = "you> "
BOT = "bot> "
LAST_GROUP = 1_000  # runs after every handler of an update has finished
REPLY_TIMEOUT = 120.0  # seconds; a first question also loads the model


def _read_lines(stream: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    """Feed lines to the event loop from a daemon thread (None at EOF).

    A daemon thread, not `asyncio.to_thread`: a read blocked on a terminal must not keep the
    interpreter from exiting on Ctrl-C.
    """
    with contextlib.suppress(RuntimeError):  # the loop closed first (Ctrl-C)
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)


def _show(out: TextIO, text: str) -> None:
    lines = text.splitlines() or [""]
    out.write(BOT + lines[0] + "\n")
    for line in lines[1:]:
        out.write((" " * len(BOT) + line if line else "") + "\n")


async def run_chat(
    settings: Settings,
    index: NewsIndex,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    reply_timeout: float = REPLY_TIMEOUT,
) -> None:
    """Read questions until EOF; print the bot's replies to each before reading the next."""
    async with BotApiEmulator() as emulator:
        emulator.add_user(CONSOLE_USER, first_name="You")
        emulator.add_chat(CONSOLE_USER)
        local = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(emulator.token),
                "telegram_base_url": emulator.base_url,
                "allowed_chat_ids": [],  # the console is the operator's own chat
                "admin_user_ids": [CONSOLE_USER],  # so /stats and /reload work here too
            }
        )
        application = build_application(local, index)
        handled: dict[int, asyncio.Event] = {}

        async def mark_handled(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            handled.setdefault(update.update_id, asyncio.Event()).set()

        application.add_handler(TypeHandler(Update, mark_handled), group=LAST_GROUP)
        async with polling(application):
            loop = asyncio.get_running_loop()
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            reader = threading.Thread(
                target=_read_lines, args=(stdin, loop, lines), name="chat-stdin", daemon=True
            )
            reader.start()
            echo = not stdin.isatty()
            while True:
                stdout.write(PROMPT)
                stdout.flush()
                line = await lines.get()
                if line is None:
                    stdout.write("\n")
                    break
                question = line.strip()
                if echo:
                    stdout.write(question + "\n")
                if not question:
                    continue
                since = emulator.mark()
                emulator.send_user_message(CONSOLE_USER, question)
                done = handled.setdefault(emulator.updates[-1]["update_id"], asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), reply_timeout)
                replies = [m for m in emulator.messages(CONSOLE_USER) if m.seq >= since]
                for reply in replies:
                    _show(stdout, reply.plain)
                if not replies:
                    _show(stdout, "(no reply)")
                stdout.flush()


@contextlib.asynccontextmanager
async def polling(
    application: Application, prepare: Callable[[Application], object] | None = None
) -> AsyncIterator[Application]:
    """Started and polling (what `run_polling` does, minus owning the event loop), with its
    post_init and post_shutdown hooks; `prepare` runs between post_init and start.

    The console chat and the end-to-end tests run the application this way.
    """
    async with application:
        if application.post_init:
            await application.post_init(application)
        if prepare:
            prepare(application)
        await application.start()
        await application.updater.start_polling(timeout=5)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    if application.post_shutdown:
        await application.post_shutdown(application)
