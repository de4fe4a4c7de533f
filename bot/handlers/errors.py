"""The error handler: log the failure, tell the user; never fail silently."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError, TimedOut

from bot.context import BotContext

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong while answering. Please try again."


async def on_error(update: object, context: BotContext) -> None:
    """Log the exception (the log filter keeps the token out) and apologise in the chat."""
    error = context.error
    if isinstance(error, Forbidden):  # blocked by the user or removed from the group
        log.warning("cannot write to the chat of update %s: %s", _update_id(update), error)
        return
    if isinstance(error, TimedOut):
        # Telegram was slow to confirm a send (never repeated: bot/retries.py); the message
        # has most likely arrived, and an apology after the answer would read as a failure
        log.warning("a request for update %s timed out: %s", _update_id(update), error)
        return
    log.error("error while handling update %s", _update_id(update), exc_info=error)
    # Inline queries have no chat to write to; callback handlers answer their query first.
    if not isinstance(update, Update) or update.effective_message is None:
        return
    try:
        await update.effective_message.reply_text(SORRY)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


def _update_id(update: object) -> object:
    return update.update_id if isinstance(update, Update) else None
