"""`newsbot chat`: talk to the real bot in a terminal, without Telegram.

The local Bot API emulator stands in for Telegram, and the very same `build_application` runs
against it over HTTP (base_url). Each line read is sent as a private message from a console
user; the bot's replies are printed as the text a person would see, links spelled out, and
their buttons as numbered choices: typing the number presses one, `more` (or `/more`) presses
the last "More".
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import build_application, polling
from bot.context import BotContext
from emulator import BotApiEmulator, ChatMessage, html_to_plain
from index import NewsIndex
from services.settings import Settings

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


_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
MORE_WORDS = {"more", "/more"}


def as_terminal_text(message_html: str) -> str:
    """A bot message as a terminal shows it: the plain text, each link's address after it."""

    def spell(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), match.group(2)
        if html_to_plain(label).strip() == url:
            return label
        return f"{label} &lt;{html.escape(url, quote=False)}&gt;"

    return html_to_plain(_LINK.sub(spell, message_html))


def _show(out: TextIO, text: str) -> None:
    lines = text.splitlines() or [""]
    out.write(BOT + lines[0] + "\n")
    for line in lines[1:]:
        out.write((" " * len(BOT) + line if line else "") + "\n")


@dataclass
class Choices:
    """The buttons under the bot's latest messages, numbered as the terminal shows them."""

    buttons: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def offer(self, messages: list[ChatMessage]) -> str:
        self.buttons = [
            (m.message_id, b) for m in messages for b in m.buttons if "callback_data" in b
        ]
        return "   ".join(f"[{n}] {b['text']}" for n, (_, b) in enumerate(self.buttons, start=1))

    def pick(self, typed: str) -> tuple[int, str] | None:
        """The (message id, callback data) that `typed` presses, if it presses one."""
        if typed.lower() in MORE_WORDS:
            for message_id, button in reversed(self.buttons):
                if button["text"] == "More":
                    return message_id, button["callback_data"]
            return None
        if typed.isdigit() and 1 <= int(typed) <= len(self.buttons):
            message_id, button = self.buttons[int(typed) - 1]
            return message_id, button["callback_data"]
        return None


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

        async def mark_handled(update: Update, _context: BotContext) -> None:
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
            choices = Choices()
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
                pressed = choices.pick(question)
                if pressed is not None:
                    try:
                        query_id = emulator.press_button(
                            CONSOLE_USER, *pressed, user_id=CONSOLE_USER
                        )
                    except ValueError:
                        _show(stdout, "(that button is gone)")
                        continue
                elif question.lower() in MORE_WORDS:
                    _show(stdout, "(nothing more to show: ask a question first)")
                    continue
                else:
                    query_id = None
                    emulator.send_user_message(CONSOLE_USER, question)
                done = handled.setdefault(emulator.updates[-1]["update_id"], asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), reply_timeout)
                replies = [m for m in emulator.messages(CONSOLE_USER) if m.seq >= since]
                for reply in replies:
                    _show(stdout, as_terminal_text(reply.text))
                toast = emulator.callback_answers.get(query_id or "", {}).get("text")
                if toast:
                    _show(stdout, f"({toast})")
                elif not replies:
                    _show(stdout, "(no reply)")
                offered = choices.offer(replies) if replies else ""
                if offered:
                    stdout.write(" " * len(BOT) + offered + "   (type a number, or 'more')\n")
                stdout.flush()
