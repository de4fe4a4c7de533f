"""What the handlers share: the services in `bot_data`, "typing…" while searching, replies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

TYPING_AFTER = 1.0  # seconds; a quicker reply needs no "typing…" (each one is a request)
TYPING_EVERY = 4.5  # seconds; Telegram shows a chat action for 5 s or until the next message


@contextlib.asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the message's chat (and forum topic) while the block runs.

    Only when the block takes longer than `TYPING_AFTER`: most answers take tens of
    milliseconds, and an action per question would spend the flood budget replies need. On exit
    the action in flight is awaited, so "typing…" never arrives after the answer it announces.
    """
    done = asyncio.Event()

    async def keep_typing() -> None:
        if TYPING_AFTER > 0:  # 0: at once (waiting 0 s still yields, and a quick answer wins)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), TYPING_AFTER)
        while not done.is_set():
            with contextlib.suppress(TelegramError):
                await message.reply_chat_action(ChatAction.TYPING)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        done.set()
        await task


async def reply_html(
    message: Message,
    texts: Sequence[str],
    *,
    quote: bool | None = True,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send rendered HTML messages in order, in the message's chat and forum topic.

    Only the first one may reply to `message`: always with `quote=True`, in groups only with
    `None` (PTB's default). The keyboard goes under the last one. Parse mode and link previews
    come from the application's `Defaults`.
    """
    sent = []
    for number, text in enumerate(texts):
        last = number == len(texts) - 1
        sent.append(
            await message.reply_text(
                text,
                do_quote=quote if number == 0 else False,
                reply_markup=markup if last else None,
            )
        )
    return sent
