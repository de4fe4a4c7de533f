"""Questions -> cited answers: private text, `/ask`, @mentions and replies in groups, "More".

An answer shows `answer_articles` citations; when there are more, a "More" button asks for the
next page. Callback data holds at most 64 bytes, so the button carries only a short key into the
`QuestionStore` (`services.questions`: the question and the articles already shown; SQLite, or
PostgreSQL shared by all workers) plus the number the next page starts at.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import filters

from bot.context import BotContext
from bot.handlers.common import (
    reply_html,
    typing,
)
from bot.render import render_answer
from db.sqlite import StoreUnavailable
from index import Answer

log = logging.getLogger(__name__)

QUESTION_CHARS = 500  # longer questions are cut: the embedding model reads ~256 tokens anyway
MAX_CITED = 20  # no "More" button past this many articles for one question
MORE = "more"
EXPIRED = "This button has expired — please ask again."
ALREADY_SHOWN = "Those results are already above."
USAGE = (
    "Ask me about the news, for example:\n"
    "<code>/ask Where did Turkey and Israel hold their talks?</code>"
)


# -- which messages are questions ------------------------------------------------------------


def mentions_bot(message: Message) -> bool:
    username = (message.get_bot().username or "").lower()
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    return bool(username) and any(text[1:].lower() == username for text in mentions)


def replies_to_bot(message: Message) -> bool:
    reply = message.reply_to_message
    if reply is None or reply.from_user is None:
        return False
    # In a forum topic every message "replies" to the topic's first message.
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return False
    return reply.from_user.id == message.get_bot().id


def addressed_to_bot(message: Message) -> bool:
    """Meant for the bot: a private message, a command, an @mention or a reply to the bot."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or ""
    return text.startswith("/") or mentions_bot(message) or replies_to_bot(message)


class _AddressedInGroup(filters.MessageFilter):
    """Group messages that @mention the bot or reply to it; the rest is other people's chat.

    Under privacy mode Telegram only delivers these anyway, but a bot that is a group admin
    sees every message.
    """

    def filter(self, message: Message) -> bool:
        return mentions_bot(message) or replies_to_bot(message)


# New text messages (not edits) that are questions: anything in private, addressed in groups.
QUESTION = (
    filters.UpdateType.MESSAGE
    & filters.TEXT
    & ~filters.COMMAND
    & (filters.ChatType.PRIVATE | (filters.ChatType.GROUPS & _AddressedInGroup()))
)


def strip_mention(text: str, username: str | None) -> str:
    """The question without `@BotName` and the punctuation that followed it."""
    if username:
        text = re.sub(rf"(?<!\w)@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split()).strip(" ,:;-—")


# -- the "More" store ------------------------------------------------------------------------


def more_button(key: str, start: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.from_button(
        InlineKeyboardButton("More", callback_data=f"{MORE}:{key}:{start}")
    )


def parse_more(data: str | None) -> tuple[str, int] | None:
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != MORE or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


# -- handlers --------------------------------------------------------------------------------


async def answer_question(message: Message, question: str, context: BotContext) -> None:
    """Search off the event loop, reply with the first page, offer "More" if there is more.

    No question (a bare `/ask`, a bare @mention) gets the usage line instead.
    """
    if not question:
        await message.reply_text(USAGE, do_quote=True)
        return
    index, page = context.bot_data.index, context.bot_data.settings.answer_articles
    question = question[:QUESTION_CHARS]
    async with typing(message):
        # one extra article tells whether a "More" button is worth showing
        answer = await context.bot_data.search(index.answer, question, page + 1)
    shown = answer.citations[:page]
    markup = None
    if answer.found and len(answer.citations) > page:
        store = context.bot_data.questions
        try:
            key = await asyncio.to_thread(store.add, question, [c.article_id for c in shown])
            markup = more_button(key, page + 1)
        except StoreUnavailable as exc:  # damaged, or a read-only data folder
            log.warning("answered without a More button: %s", exc)
    texts = render_answer(replace(answer, citations=shown))
    await reply_html(message, texts, markup=markup)


async def ask_command(update: Update, context: BotContext) -> None:
    """`/ask QUESTION` (or `/ask@BotName QUESTION`), in any chat."""
    message = update.effective_message
    question = " ".join((message.text or "").split()[1:])  # drop "/ask" or "/ask@BotName"
    await answer_question(message, question, context)


async def timeline_command(update: Update, context: BotContext) -> None:
    """`/timeline TOPIC`: the reports on a story in date order, one line each."""
    message = update.effective_message
    topic = " ".join((message.text or "").split()[1:])[:QUESTION_CHARS]
    async with typing(message):
        answer = await context.bot_data.search(context.bot_data.index.timeline, topic)
    await reply_html(message, render_answer(answer))


async def ask_message(update: Update, context: BotContext) -> None:
    """Plain text in private, or a group message that @mentions the bot or replies to it."""
    message = update.effective_message
    question = strip_mention(message.text or "", context.bot.username)
    await answer_question(message, question, context)


async def more(update: Update, context: BotContext) -> None:
    """The "More" button: the next page of citations, numbered on, as a new message."""
    query = update.callback_query
    parsed = parse_more(query.data)
    store = context.bot_data.questions
    message = query.message
    if parsed is None or not isinstance(message, Message):
        await query.answer(EXPIRED)
        return
    key, start = parsed
    asked = await asyncio.to_thread(store.claim, key, start)
    if asked is None:  # unknown key, or that page shown or being fetched (here or elsewhere)
        known = await asyncio.to_thread(store.get, key)
        await query.answer(EXPIRED if known is None else ALREADY_SHOWN)
        return
    shown: tuple[str, ...] | None = None
    try:
        await query.answer()
        with contextlib.suppress(BadRequest):  # cosmetic; fails on messages too old to edit
            await query.edit_message_reply_markup(None)  # the next page has its own button
        page = context.bot_data.settings.answer_articles
        async with typing(message):
            answer = await context.bot_data.search(
                context.bot_data.index.answer, asked.question, len(asked.shown) + page + 1
            )
        fresh = [c for c in answer.citations if c.article_id not in asked.shown]
        if not answer.found or not fresh:
            asked_html = html.escape(asked.question[:200], quote=False)
            await reply_html(message, [f"That is all I found on “{asked_html}”."], quote=False)
            return
        citations = fresh[:page]
        shown = asked.shown + tuple(c.article_id for c in citations)
        markup = None
        if len(fresh) > page and len(shown) < MAX_CITED:
            markup = more_button(key, len(shown) + 1)
        texts = render_answer(Answer(asked.question, tuple(citations)), start=start)
        await reply_html(message, texts, quote=False, markup=markup)
    finally:
        await asyncio.to_thread(store.release, key, shown)
