"""/stats and /reload, for the user ids in ADMIN_USER_IDS only (`bot.handlers.access.is_admin`)."""

from __future__ import annotations

import asyncio
import html

from telegram import Update

from bot.context import BotContext
from bot.handlers.access import is_admin
from bot.handlers.common import reply_html
from bot.handlers.feeds import feed_stats_blocks
from bot.render import format_date, split_messages
from index.stats import DAMAGED_VECTORS, IndexStats
from index.store.schema import REINGEST_WARNING


def stats_html(stats: IndexStats) -> str:
    first, last = format_date(stats.first) or "?", format_date(stats.last) or "?"
    model = html.escape(stats.model or "?", quote=False)
    text = (
        "<b>Index</b>\n"
        f"Articles: {stats.articles:,} · chunks: {stats.chunks:,} · "
        f"outlets: {len(stats.sources):,}\n"
        f"Published: {first} – {last}\n"
        f"Model: <code>{model}</code> ({stats.dim or '?'} dimensions)\n"
        f"Generation: {stats.generation} · size on disk: {stats.size_bytes / 1e6:.1f} MB"
    )
    if stats.missing_sentence_vectors:
        text += "\n" + html.escape(REINGEST_WARNING % stats.missing_sentence_vectors, quote=False)
    if stats.damaged_vector_files:
        damaged = DAMAGED_VECTORS % (", ".join(stats.damaged_vector_files), "the data folder")
        text += "\n" + html.escape(damaged, quote=False)
    return text


async def stats(update: Update, context: BotContext) -> None:
    """What the index holds and how the feeds are doing, for the operator."""
    if not await is_admin(update, context):
        return
    index_stats = await asyncio.to_thread(context.bot_data.index.stats)
    blocks = [stats_html(index_stats), *await feed_stats_blocks(context)]
    await reply_html(update.effective_message, split_messages(blocks), quote=None)


async def reload(update: Update, context: BotContext) -> None:
    """Pick up what `newsbot ingest` wrote in another process, without a restart."""
    if not await is_admin(update, context):
        return
    index = context.bot_data.index
    changed = await asyncio.to_thread(index.reload)
    index_stats = await asyncio.to_thread(index.stats)
    articles = f"{index_stats.articles:,} article{'s' if index_stats.articles != 1 else ''}"
    if changed:
        text = f"Reloaded: the index now holds {articles} (generation {index.generation})."
    else:
        text = f"Nothing new: the index is up to date ({articles}, generation {index.generation})."
    await update.effective_message.reply_text(text)
