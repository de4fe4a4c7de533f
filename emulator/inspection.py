"""The tests' view of what the bot did: its messages, the call log, and waiting for both.

Every ``wait_for_*`` helper raises AssertionError on timeout with the API calls made since
the last user action, so a failing end-to-end test shows what the bot actually sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from emulator.core import EmulatorCore
from emulator.registry import canonical
from emulator.state import ApiCall, ChatMessage, WebhookDelivery

_T = TypeVar("_T")


class Inspection(EmulatorCore):
    """Read and await what the bot sent; every read is of the emulator's current state."""

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages still in the chat, oldest first, as currently shown."""
        chat = self._chats.get(chat_id)
        return [m for m in chat.messages.values() if m.from_bot] if chat else []

    def history(self, chat_id: int) -> list[ChatMessage]:
        """Every message still in the chat, the users' and the bot's, oldest first."""
        chat = self._chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    @property
    def errors(self) -> list[ApiCall]:
        """The calls answered with 400, so a test can assert there were none."""
        return [call for call in self.calls if call.status == HTTPStatus.BAD_REQUEST]

    def mark(self) -> int:
        """A position in the call log; pass it as ``since=`` to only see what comes after."""
        return len(self.calls)

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, *, since: int | None = None, timeout: float = 10.0
    ) -> list[ChatMessage]:
        """Wait until the bot sent ``count`` messages to the chat since ``since`` (default: the
        last user action injected into that chat) and return all of them."""
        start = self._chat_marks.get(chat_id, 0) if since is None else since

        def fresh() -> list[ChatMessage]:
            return [m for m in self.messages(chat_id) if m.seq >= start]

        return await self._wait(
            lambda: fresh() if len(fresh()) >= count else None,
            timeout,
            lambda: (
                f"expected {count} bot message(s) in chat {chat_id}, got "
                f"{[m.plain for m in fresh()]}"
            ),
            start,
        )

    async def wait_for_call(
        self, method: str, *, since: int | None = None, timeout: float = 10.0
    ) -> ApiCall:
        """The first ``method`` call since ``since`` (default: the last injected update)."""
        name = canonical(method)
        start = self._last_mark if since is None else since
        return await self._wait(
            lambda: next((c for c in self.calls[start:] if c.method == name), None),
            timeout,
            lambda: f"expected a {name} call",
            start,
        )

    async def wait_for_inline_answer(
        self, inline_query_id: str, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The parameters of the bot's answerInlineQuery for this query."""
        return await self._wait(
            lambda: self.inline_answers.get(inline_query_id),
            timeout,
            lambda: f"expected an answer to inline query {inline_query_id}",
            self._last_mark,
        )

    async def wait_for_callback_answer(
        self, callback_query_id: str, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The parameters of the bot's answerCallbackQuery for this query."""
        return await self._wait(
            lambda: self.callback_answers.get(callback_query_id),
            timeout,
            lambda: f"expected an answer to callback query {callback_query_id}",
            self._last_mark,
        )

    async def wait_for_delivery(self, update_id: int, *, timeout: float = 10.0) -> WebhookDelivery:
        """The first webhook delivery of an update, with the HTTP status the bot answered."""
        return await self._wait(
            lambda: next((d for d in self.webhook_deliveries if d.update_id == update_id), None),
            timeout,
            lambda: f"expected a webhook delivery of update {update_id}",
            self._last_mark,
        )

    async def _wait(
        self, check: Callable[[], _T | None], timeout: float, what: Callable[[], str], since: int
    ) -> _T:
        """Poll ``check`` on every change until it returns a value, or fail after
        ``timeout`` showing the calls since ``since``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            activity = self._activity
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                calls = [str(c) for c in self.calls[since:] if c.method != "getUpdates"]
                shown = "\n  ".join(calls[-20:]) or "(none)"
                raise AssertionError(
                    f"timed out after {timeout}s: {what()}\nAPI calls since then:\n  {shown}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(activity.wait(), remaining)
