"""The error handler: log the failure, tell the user; never fail silently."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError, TimedOut

from bot.context import BotContext
from db.sqlite import StoreUnavailable

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong while answering. Please try again."
# A store the command needs is damaged or read-only (the log names the file and the remedy).
UNAVAILABLE = (
    "Sorry, that is unavailable right now: the bot cannot use part of its storage. "
    "Questions still work."
)


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
    if isinstance(error, StoreUnavailable):  # known and explained: no traceback
        log.error("update %s not handled: %s", _update_id(update), error)
    else:
        log.error("error while handling update %s", _update_id(update), exc_info=error)
    if isinstance(update, Update) and update.callback_query is not None:
        # a button press not answered yet (its store failed first) keeps spinning otherwise
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(
                UNAVAILABLE if isinstance(error, StoreUnavailable) else SORRY
            )
    # Inline queries have no chat to write to.
    if not isinstance(update, Update) or update.effective_message is None:
        return
    try:
        await update.effective_message.reply_text(
            UNAVAILABLE if isinstance(error, StoreUnavailable) else SORRY
        )
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


def _update_id(update: object) -> object:
    return update.update_id if isinstance(update, Update) else None
