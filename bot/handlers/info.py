"""/start, /help, /sources and /latest: what the bot knows and how to ask it."""

from __future__ import annotations

import asyncio
import html

from telegram import Update

from bot.commands import help_html
from bot.context import BotContext
from bot.handlers.common import reply_html, typing
from bot.render import format_date, render_latest, render_sources
from index.stats import IndexStats

LATEST_ARTICLES = 10


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def knowledge_html(stats: IndexStats) -> str:
    """One sentence on what the index holds: articles, outlets, date range."""
    if not stats.articles:
        return "I have no articles yet: the operator needs to run <code>newsbot ingest</code>."
    text = f"I know <b>{_plural(stats.articles, 'article')}</b>"
    if stats.sources:
        text += f" from {_plural(len(stats.sources), 'outlet')}"
    first, last = format_date(stats.first), format_date(stats.last)
    if first and last:
        text += f", published {first}" if first == last else f", published {first} – {last}"
    return text + "."


def help_for(update: Update, context: BotContext) -> str:
    """/help for this reader: admins also see their commands."""
    user = update.effective_user
    admin = user is not None and user.id in context.bot_data.settings.admin_user_ids
    return help_html(context.bot.username, admin=admin)


async def start(update: Update, context: BotContext) -> None:
    """What the bot knows, a few things to ask that it answers well, how to ask."""
    index = context.bot_data.index
    stats = await asyncio.to_thread(index.stats)
    suggestions = await asyncio.to_thread(index.suggestions)
    examples = "\n".join(f"• {html.escape(q, quote=False)}" for q in suggestions)
    text = "<b>Hi! I answer questions about the news with cited excerpts.</b>\n\n"
    text += f"{knowledge_html(stats)}\n\n"
    if examples:
        text += f"<b>Try asking about</b>\n{examples}\n\n"
    text += help_for(update, context)
    await update.effective_message.reply_text(text)


async def help_command(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(help_for(update, context))


async def sources(update: Update, context: BotContext) -> None:
    """Outlets with article counts and their latest dates."""
    stats = await asyncio.to_thread(context.bot_data.index.stats)
    if stats.articles and not stats.sources:
        texts = [f"I have {_plural(stats.articles, 'article')}, but none names its outlet."]
    else:
        texts = render_sources(stats.sources)
    await reply_html(update.effective_message, texts, quote=None)


async def latest(update: Update, context: BotContext) -> None:
    """`/latest [topic]`: the newest articles, optionally only those on a topic."""
    message = update.effective_message
    topic = " ".join(context.args or []) or None
    async with typing(message):
        rows = await asyncio.to_thread(context.bot_data.index.latest, LATEST_ARTICLES, topic)
    await reply_html(message, render_latest(rows, topic), quote=None)


async def unknown_command(update: Update, _context: BotContext) -> None:
    """A command the bot does not have, in a private chat."""
    await update.effective_message.reply_text("I don't know that command. See /help.")
