"""Who may talk to the bot: ALLOWED_CHAT_IDS (a private bot answers its own chats and politely
refuses everyone else) and ADMIN_USER_IDS (`is_admin` guards every admin command)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.handlers.ask import MORE, addressed_to_bot

log = logging.getLogger(__name__)

PRIVATE_BOT = "This bot is private, sorry: it only answers in the chats it was set up for."
SLOW_DOWN = (
    "You are asking faster than I can answer, sorry. Please wait about {seconds} s and ask "
    "again; questions sent meanwhile are skipped."
)
INLINE_COST = 0.25  # an inline query per pause in typing: cheaper than a question
SEARCH_COMMANDS = frozenset({"ask", "timeline"})
ADMINS_ONLY = "Sorry, this command is only for the bot's administrators."


async def is_admin(update: Update, context: BotContext) -> bool:
    """True for admins; everyone else gets the same polite refusal, whichever command it was."""
    user = update.effective_user
    if user is not None and user.id in context.bot_data.settings.admin_user_ids:
        return True
    await update.effective_message.reply_text(ADMINS_ONLY)
    return False


def is_allowed(update: Update, context: BotContext) -> bool:
    """The chat is listed; without a chat (inline mode), the user's own private chat is."""
    settings = context.bot_data.settings
    chat, user = update.effective_chat, update.effective_user
    if chat is not None:
        return chat.id in settings.allowed_chat_ids
    return user is not None and user.id in settings.allowed_chat_ids


async def only_allowed_chats(update: Update, context: BotContext) -> None:
    """Runs before every other handler (group -1): refuse once, then stop all handling.

    The stop is raised even when the refusal cannot be sent: after any other exception PTB
    would go on to the next handler group, and answer.
    """
    if is_allowed(update, context):
        return
    try:
        if update.inline_query:
            await update.inline_query.answer([], cache_time=300, is_personal=True)
        elif update.callback_query:
            await update.callback_query.answer(PRIVATE_BOT)
        elif update.message and addressed_to_bot(update.message):
            await update.message.reply_text(PRIVATE_BOT)
    except TelegramError as exc:
        log.warning("could not refuse update %s: %s", update.update_id, exc)
    raise ApplicationHandlerStop


def searches(text: str) -> bool:
    """A question, /ask or /timeline: what costs a search. Other commands (/subscribe, /help,
    ...) are cheap and often come in quick runs, so they are never held back."""
    if not text.startswith("/"):
        return True
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:] else ""
    return command in SEARCH_COMMANDS


async def within_budget(update: Update, context: BotContext) -> None:
    """Runs before the handlers (group -1): a user over their question budget is told to slow
    down (at most once a minute), and their searches are dropped until it refills. Admins are
    exempt; messages not addressed to the bot cost nothing (the bot ignores them anyway)."""
    user = update.effective_user
    settings = context.bot_data.settings
    if user is None or user.id in settings.admin_user_ids:
        return
    message = update.message
    if update.inline_query:
        cost = INLINE_COST
    elif update.callback_query:
        if not (update.callback_query.data or "").startswith(f"{MORE}:"):
            return
        cost = 1.0
    elif message and addressed_to_bot(message) and searches(message.text or ""):
        cost = 1.0
    else:
        return
    verdict = context.bot_data.budget.take(user.id, cost)
    if verdict.allowed:
        return
    notice = SLOW_DOWN.format(seconds=max(1, round(verdict.wait)))
    try:
        if update.inline_query:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif update.callback_query:
            await update.callback_query.answer(notice)
        elif message and verdict.first_refusal:
            await message.reply_text(notice)
    except TelegramError as exc:
        log.warning("could not ask user %s to slow down: %s", user.id, exc)
    raise ApplicationHandlerStop
