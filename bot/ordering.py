"""Updates of different chats run at once; those of one chat in the order they came.

python-telegram-bot's concurrent updates answer a quick question sent after a slow one first;
in a chat that reads as answers to the wrong questions. One lock per chat (per user for inline
queries, which have no chat) keeps each chat's updates in arrival order: asyncio's locks wake
waiters first come, first served, and PTB starts the update tasks in arrival order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatOrder(BaseUpdateProcessor):
    """`concurrent_updates` for `Application.builder()`: concurrency across chats only."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def key(update: object) -> object:
        if not isinstance(update, Update):
            return None
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        key = self.key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # forget quiet chats
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
