"""/start, /help, /sources and /latest: what the bot knows and how to ask it."""

from __future__ import annotations

import asyncio
import html

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import news_index, reply_html, typing
from bot.render import format_date, render_latest, render_sources
from index.service import IndexStats

LATEST_ARTICLES = 10
EXAMPLE_QUESTIONS = (
    "Where did Turkey and Israel hold their talks?",
    "What did the Federal Reserve decide about interest rates?",
    "Why did OpenAI's board remove Sam Altman?",
)


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


def usage_html(username: str | None) -> str:
    bot = f"@{username}" if username else "@BotName"
    return (
        "<b>How to ask</b>\n"
        "• Here: just write your question.\n"
        f"• In groups: <code>/ask QUESTION</code>, mention {bot}, or reply to one of my answers.\n"
        f"• In any chat: type <code>{bot} QUESTION</code> and pick an excerpt to post.\n\n"
        "/timeline TOPIC — a story's reports in date order\n"
        "/latest [topic] — the newest articles, optionally on a topic\n"
        "/sources — the outlets I have read\n"
        "/help — this message\n\n"
        "I answer with quotes from the articles and link to them; I never make things up. "
        "If nothing relevant was reported, I say so."
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot knows, a few example questions, how to ask."""
    stats = await asyncio.to_thread(news_index(context).stats)
    examples = "\n".join(f"• {html.escape(q, quote=False)}" for q in EXAMPLE_QUESTIONS)
    text = (
        "<b>Hi! I answer questions about the news with cited excerpts.</b>\n\n"
        f"{knowledge_html(stats)}\n\n"
        f"<b>Try asking</b>\n{examples}\n\n"
        f"{usage_html(context.bot.username)}"
    )
    await update.effective_message.reply_text(text)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(usage_html(context.bot.username))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Outlets with article counts and their latest dates."""
    stats = await asyncio.to_thread(news_index(context).stats)
    if stats.articles and not stats.sources:
        texts = [f"I have {_plural(stats.articles, 'article')}, but none names its outlet."]
    else:
        texts = render_sources(stats.sources)
    await reply_html(update.effective_message, texts, quote=None)


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/latest [topic]`: the newest articles, optionally only those on a topic."""
    message = update.effective_message
    topic = " ".join(context.args or []) or None
    async with typing(message):
        rows = await asyncio.to_thread(news_index(context).latest, LATEST_ARTICLES, topic)
    await reply_html(message, render_latest(rows, topic), quote=None)


async def unknown_command(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have, in a private chat."""
    await update.effective_message.reply_text("I don't know that command. See /help.")
