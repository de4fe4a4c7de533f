"""One retry policy for every Bot API request: python-telegram-bot's AIORateLimiter (pacing,
and 429s waited out) plus retries for failures that mean Telegram did not carry the request out.

Telegram has no idempotency key, so a failed send is retried only when it surely did not arrive
or was refused before being carried out:

- a 5xx answer, a connection refused or reset before any answer, a connect or pool timeout:
  retried (a connection dropped mid-request is the one ambiguous case here; it is retried, as
  a lost answer is worse than a rare double one);
- a read timeout (the request reached Telegram, the answer was slow): retried only for methods
  that are safe to repeat (editing, answering a query, chat actions), never for a send, so a
  slow Telegram cannot make the bot post the same answer twice;
- 400/403/404/409 answers: never (the request is wrong, repeating it cannot help). One of them
  ends a repeat as done: an answer to an inline or callback query whose first attempt timed
  out, refused as "query is too old" — Telegram answers a query once, so the slow first
  attempt was carried out (or the query has expired, and nothing can be shown any more).

Chat actions ("typing…") are neither paced nor retried: they are not messages, and they are
cosmetic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

from bot.ordering import about_to_reply

log = logging.getLogger(__name__)

ATTEMPTS = 4  # per request, on top of the limiter's own 429 retries
UNPACED = "sendChatAction"  # neither paced nor retried (see process_request)
BACKOFF = 0.5  # seconds before the first retry, doubled each time
# Query answers: Telegram takes one per query and refuses a second as "query is too old".
QUERY_ANSWERS = frozenset({"answerCallbackQuery", "answerInlineQuery"})
# Methods whose repetition changes nothing the user sees twice.
IDEMPOTENT = frozenset(
    {
        "answerCallbackQuery",
        "answerInlineQuery",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "getMe",
        "getChat",
        "setMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "deleteWebhook",
        "setWebhook",
    }
)


def answered_before(exc: NetworkError, endpoint: str) -> bool:
    """A repeated query answer refused because the query was answered (or has expired)."""
    text = str(exc).lower()
    return (
        isinstance(exc, BadRequest)
        and endpoint in QUERY_ANSWERS
        and ("query is too old" in text or "query_id_invalid" in text)
    )


def did_not_happen(exc: NetworkError, endpoint: str) -> bool:
    """True when repeating the request cannot make the user see it twice (see the module)."""
    if isinstance(exc, BadRequest):
        return False
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        if isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return True
        return endpoint in IDEMPOTENT
    # an error answer (5xx, or an unreadable body from a proxy) or a transport failure
    return True


REPLIES = {"sendMessage"}  # a request that answers the update being handled


def _marking_done(
    callback: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The request, marking its update done as it leaves (after the limiter's wait): a kill
    from then on loses at most this message, and never sends it again after a restart."""

    async def send(*args: Any, **kwargs: Any) -> Any:
        about_to_reply()
        return await callback(*args, **kwargs)

    return send


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries what `did_not_happen`, with a short backoff."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == UNPACED:
            # "typing…" is not a message: paced with the messages, under load it took half of
            # Telegram's 30 messages a second from the answers themselves; it is cosmetic, so a
            # failure is not retried either
            return await callback(*args, **kwargs)
        if endpoint in REPLIES:
            callback = _marking_done(callback)
        delay = BACKOFF
        timed_out = False  # an earlier attempt may have been carried out
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as exc:
                if timed_out and answered_before(exc, endpoint):
                    log.info("%s: the attempt that timed out was taken (%s)", endpoint, exc)
                    return True
                if attempt == ATTEMPTS or not did_not_happen(exc, endpoint):
                    raise
                timed_out = timed_out or isinstance(exc, TimedOut)
                log.info("%s failed (%s): retry %d in %.1f s", endpoint, exc, attempt, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
