"""Updates of different chats run at once; those of one chat in the order they came; each one
journaled until handled, so a crash does not lose it.

python-telegram-bot's concurrent updates answer a quick question sent after a slow one first;
in a chat that reads as answers to the wrong questions. One lock per chat (per user for inline
queries, which have no chat) keeps each chat's updates in arrival order: asyncio's locks wake
waiters first come, first served, and PTB starts the update tasks in arrival order.

With an `Inbox`, every update is recorded before it waits for its chat and marked done after;
`replay_unfinished` (from post_init) hands the next start what a crash interrupted. An inbox
that cannot be used (its file damaged, or a read-only data folder) is said once in the log and
the updates are handled without it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

from services.inbox import Inbox

log = logging.getLogger(__name__)
# Set while an update is handled: marks it done in the inbox (once). `about_to_reply` calls it
# as its answer's request leaves (bot/retries.py, after the limiter's wait), so a kill after
# the send cannot answer it again on restart; one killed mid-request is lost instead.
_MARK_DONE: ContextVar[Callable[[], None] | None] = ContextVar("mark_done", default=None)


def about_to_reply() -> None:
    """The answer is computed and about to be sent: from now on a crash loses it rather than
    sending it twice (Telegram has no idempotency key; digests make the same choice)."""
    mark = _MARK_DONE.get()
    if mark is not None:
        mark()


WITHOUT_JOURNAL = (
    "updates are handled without the journal, so a crash loses those being answered: %s"
)


class PerChatOrder(BaseUpdateProcessor):
    """`concurrent_updates` for `Application.builder()`: concurrency across chats only."""

    def __init__(self, max_concurrent_updates: int = 256, inbox: Inbox | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}
        self.inbox = inbox
        self._active: set[int] = set()  # update ids being handled now (a replay and a
        # re-delivery of one update must not both run)
        self.journal_failed = False  # said once in the log; then updates go unjournaled

    def _begin(self, inbox: Inbox, update: Update) -> bool:
        """Journal the update; False when it was handled already. When the journal cannot be
        written the update is handled anyway: an answer matters more than its journal."""
        try:
            return inbox.begin(update.update_id, update.to_dict())
        except sqlite3.Error as exc:
            self.without_journal(exc)
            return True

    def _done(self, inbox: Inbox, update_id: int) -> None:
        try:
            inbox.done(update_id)
        except sqlite3.Error as exc:
            self.without_journal(exc)

    def without_journal(self, exc: sqlite3.Error) -> None:
        """Say once (per process) that the journal is off, and why."""
        if not self.journal_failed:
            self.journal_failed = True
            log.error(WITHOUT_JOURNAL, exc)

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
        if self.inbox is None or not isinstance(update, Update):
            await self._in_order(update, coroutine)
            return
        update_id = update.update_id
        if update_id in self._active or not self._begin(self.inbox, update):
            coroutine.close()  # handled already (or now): a duplicate delivery
            return
        self._active.add(update_id)
        marked = False

        def mark_done() -> None:
            nonlocal marked
            if not marked:
                marked = True
                self._done(self.inbox, update_id)

        token = _MARK_DONE.set(mark_done)  # the handler runs in this task: it sees it
        try:
            await self._in_order(update, coroutine)
        finally:
            _MARK_DONE.reset(token)
            self._active.discard(update_id)
            mark_done()

    async def _in_order(self, update: object, coroutine: Awaitable[object]) -> None:
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


async def replay_unfinished(application: Application) -> int:
    """Queue the updates a crash interrupted (from post_init, before polling starts)."""
    processor = application.update_processor
    if not isinstance(processor, PerChatOrder) or processor.inbox is None:
        return 0
    try:
        processor.inbox.prune()
        pending = processor.inbox.pending()
    except sqlite3.Error as exc:
        processor.without_journal(exc)
        return 0
    for payload in pending:
        await application.update_queue.put(Update.de_json(payload, application.bot))
    return len(pending)
