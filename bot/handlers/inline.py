"""Inline mode: `@BotName question` in any chat lists cited excerpts to post there."""

from __future__ import annotations

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)

from bot.context import BotContext
from bot.render import render_inline_result

INLINE_RESULTS = 10
MIN_QUERY_CHARS = 3  # Telegram sends a query per keystroke; "W" is not worth a search
CACHE_SECONDS = 10  # short: the index grows while the bot runs
START_PARAMETER = "inline"  # the button opens a private chat with `/start inline`


async def inline_query(update: Update, context: BotContext) -> None:
    """Answer with up to ten citations; an empty or unanswerable query gets a hint, no error."""
    query = update.inline_query
    text = " ".join(query.query.split())
    if len(text) < MIN_QUERY_CHARS:
        await query.answer(
            [],
            cache_time=CACHE_SECONDS,
            button=InlineQueryResultsButton(
                "Type a question about the news…", start_parameter=START_PARAMETER
            ),
        )
        return
    answer = await context.bot_data.search(context.bot_data.index.answer, text, INLINE_RESULTS)
    if not answer.found:
        await query.answer(
            [],
            cache_time=CACHE_SECONDS,
            button=InlineQueryResultsButton(
                "No reports found — try other words", start_parameter=START_PARAMETER
            ),
        )
        return
    results = []
    for citation in answer.citations[:INLINE_RESULTS]:
        title, description, message = render_inline_result(citation)
        results.append(
            InlineQueryResultArticle(
                id=citation.article_id[:64],  # unique: an answer cites each article once
                title=title,
                description=description,
                input_message_content=InputTextMessageContent(message),
            )
        )
    await query.answer(results, cache_time=CACHE_SECONDS)
