"""`build_application`: one place that wires settings, the index and the handlers together;
`polling`: the application started and polling, for the console chat and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import menu
from bot.context import CONTEXT_TYPES, BotContext
from bot.digests import schedule_digests
from bot.feed_polling import schedule_feed_polling, stop_feed_polling
from bot.handlers import access, admin, ask, errors, feeds, info, inline
from bot.handlers.digest import register_digest_handlers
from bot.ordering import PerChatOrder, replay_unfinished
from bot.retries import RetryingRateLimiter
from index import NewsIndex
from services.budget import QuestionBudget
from services.paths import open_inbox, open_questions, open_store
from services.settings import Settings

log = logging.getLogger(__name__)

# The update types the handlers use; Telegram sends nothing else (less traffic, no surprises).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]

DESCRIPTION = (
    "I answer questions about the news with cited excerpts: the sentences from real articles "
    "that answer you, each with the outlet, the date and a link. Ask me anything about the "
    "news I have read, here, in groups (/ask) or inline in any chat."
)
SHORT_DESCRIPTION = "Questions about the news, answered with cited excerpts."

# Telegram's limits: about 30 messages a second overall and 20 a minute per group. Overall,
# one request every 1/30 s rather than bursts of 30: a burst of 30 at once draws 429s (measured
# with benchmarks/digest_fanout.py against the emulator's flood limits).
RATE_LIMITER_OPTIONS = {
    "overall_max_rate": 1,
    "overall_time_period": 1 / 30,
    "group_max_rate": 20,
    "group_time_period": 60,
    # on 429, wait retry_after and try again; a reply is given up (and the user told "sorry")
    # only after 9 refusals in a row: at 5, the crowd test's 20% of 429s dropped a reply in
    # about one run in a hundred (0.2^6 a send, ~200 sends)
    "max_retries": 8,
}


def rate_limits(workers: int) -> dict[str, Any]:
    """The limiter's options for one of `workers` processes sending for the same bot: each
    takes an equal share of the overall limit (the per-group limit stays: a chat's updates
    may reach any worker, but a group rarely gets 20 answers a minute)."""
    period = RATE_LIMITER_OPTIONS["overall_time_period"] * workers
    return {**RATE_LIMITER_OPTIONS, "overall_time_period": period}


NEW_MESSAGES = filters.UpdateType.MESSAGE  # commands are not re-run when a message is edited


async def post_init(application: Application) -> None:
    """Tell Telegram what the bot offers, and load the embedding model before the first user.

    `run_polling`/`run_webhook` call this; code that starts the application itself
    (tests, the console chat) awaits `application.post_init(application)`.
    """
    bot = application.bot
    try:
        await bot.set_my_commands(menu(admin=False))
        await bot.set_my_description(DESCRIPTION)
        await bot.set_my_short_description(SHORT_DESCRIPTION)
    except TelegramError as exc:  # cosmetic: the bot works without them
        log.warning("could not set the bot's commands and description: %s", exc)
    settings: Settings = application.bot_data.settings
    for user_id in settings.admin_user_ids:
        try:
            await bot.set_my_commands(menu(admin=True), scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
            log.warning("could not set the admin menu for %s: %s", user_id, exc)
    index: NewsIndex = application.bot_data.index
    await asyncio.to_thread(lambda: index.questions.encode_question("warm up", []))
    index.warmer.nudge()  # the caches fill in the background, giving way to questions
    if replayed := await replay_unfinished(application):
        log.info("handling %d update(s) a crash interrupted", replayed)
    schedule_digests(application)  # PTB does not persist jobs: the schedule lives in SQLite
    schedule_feed_polling(application)  # default feeds seeded once; polls every N min
    if settings.index_refresh_seconds > 0 and application.job_queue is not None:
        application.job_queue.run_repeating(
            refresh_index, settings.index_refresh_seconds, name="refresh index"
        )


async def refresh_index(context: BotContext) -> None:
    """Pick up what another process (an ingest worker, another bot worker) committed."""
    try:
        if await asyncio.to_thread(context.bot_data.index.reload):
            log.info("picked up index generation %d", context.bot_data.index.generation)
            context.bot_data.index.warmer.nudge()
    except Exception:  # a damaged file is logged; the generation in use keeps answering
        log.exception("could not pick up the newest index generation")


async def post_shutdown(application: Application) -> None:
    """Let a running feed poll finish, then close its HTTP client; free the search threads."""
    await stop_feed_polling(application)
    application.bot_data.search_pool.shutdown(wait=False)


# Feed ingests run in a worker thread beside the questions. With Python's default 5 ms GIL
# switch interval a question waits up to 5 ms at every hand-over back from torch, behind the
# ingest's pure-Python chunking; 0.5 ms keeps those waits short (benchmarks/feed_throughput.py).
GIL_SWITCH_INTERVAL = 0.0005


def share_the_interpreter() -> None:
    """Let question threads get the interpreter back quickly while an ingest thread runs."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def build_application(
    settings: Settings, index: NewsIndex, *, concurrent_updates: bool | int = True
) -> Application:
    """The bot, ready for `run_polling`/`run_webhook` or for tests against the emulator."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token.strip():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    share_the_interpreter()
    application = (
        Application.builder()
        .token(token.strip())
        .base_url(settings.telegram_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,  # the question may be deleted meanwhile
            )
        )
        .rate_limiter(RetryingRateLimiter(**rate_limits(settings.bot_workers)))
        .concurrent_updates(
            PerChatOrder(
                256 if concurrent_updates is True else int(concurrent_updates),
                open_inbox(settings),
            )
            if concurrent_updates
            else False
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .context_types(CONTEXT_TYPES)
        .build()
    )
    services = application.bot_data
    services.index, services.settings = index, settings
    services.subscriptions = open_store(settings)
    services.questions = open_questions(settings)

    services.budget = QuestionBudget(
        settings.user_questions_per_minute, settings.user_question_burst
    )
    if settings.allowed_chat_ids:
        application.add_handler(TypeHandler(Update, access.only_allowed_chats), group=-2)
    application.add_handler(TypeHandler(Update, access.within_budget), group=-1)
    register_digest_handlers(application)  # first: the catch-all handlers below would shadow it
    feeds.register_feed_handlers(application)  # admins: /feeds /addfeed /removefeed /pollnow
    application.add_handlers(
        [
            CommandHandler("start", info.start, filters=NEW_MESSAGES),
            CommandHandler("help", info.help_command, filters=NEW_MESSAGES),
            CommandHandler("ask", ask.ask_command, filters=NEW_MESSAGES),
            CommandHandler("timeline", ask.timeline_command, filters=NEW_MESSAGES),
            CommandHandler("latest", info.latest, filters=NEW_MESSAGES),
            CommandHandler("sources", info.sources, filters=NEW_MESSAGES),
            CommandHandler("stats", admin.stats, filters=NEW_MESSAGES),
            CommandHandler("reload", admin.reload, filters=NEW_MESSAGES),
            MessageHandler(ask.QUESTION, ask.ask_message),
            MessageHandler(
                NEW_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE, info.unknown_command
            ),
            CallbackQueryHandler(ask.more),
            InlineQueryHandler(inline.inline_query),
        ]
    )
    application.add_error_handler(errors.on_error)
    return application


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for `run_webhook`/`Updater.start_webhook` from the settings.

    Without WEBHOOK_SECRET a random secret is used for this run: Telegram then sends it with
    every update, and the webhook server answers 403 to anyone who does not know it.
    """
    if not settings.webhook_url:
        raise ValueError("WEBHOOK_URL is not set")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret or secrets.token_urlsafe(32),
        "allowed_updates": ALLOWED_UPDATES,
    }


@contextlib.asynccontextmanager
async def polling(
    application: Application, prepare: Callable[[Application], object] | None = None
) -> AsyncIterator[Application]:
    """Started and polling (what `run_polling` does, minus owning the event loop), with its
    post_init and post_shutdown hooks; `prepare` runs between post_init and start.

    The console chat and the end-to-end tests run the application this way.
    """
    async with application:
        if application.post_init:
            await application.post_init(application)
        if prepare:
            prepare(application)
        await application.start()
        await application.updater.start_polling(timeout=5)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    if application.post_shutdown:
        await application.post_shutdown(application)
