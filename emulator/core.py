"""Everything one emulator holds, and the helpers every part of it shares.

``EmulatorCore`` is the base of the mixins that make up ``BotApiEmulator``: the users' side
(control, inspection) and the Bot API methods (messages, updates, queries, bot_info, chats).
It owns all state, renders chats and messages as Bot API JSON, and queues updates for the bot.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import Counter, defaultdict, deque
from typing import TYPE_CHECKING, Any

from emulator.state import ApiCall, Bucket, Chat, ChatMessage, Faults, Webhook, WebhookDelivery
from emulator.validation import ApiError, bad

if TYPE_CHECKING:
    import httpx
    import tornado.httpserver

_LOG = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAEmulatorTokenForLocalTestsOnly0000"
DEFAULT_USER_ID = 1_000_001  # sender of group messages when a test does not name one
# Telegram does not send these unless they are asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class EmulatorCore:
    """The state of one emulated bot and its chats; see ``BotApiEmulator`` for the whole."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "NewsTestBot",
        bot_name: str = "News Bot",
        privacy_mode: bool = True,
        flood_limits: bool = False,
    ):
        """``privacy_mode``: in groups, deliver only commands, mentions and replies to the bot
        (Telegram's default). ``flood_limits``: answer 429 past Telegram's sending limits."""
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 1
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.privacy_mode = privacy_mode
        self.flood_limits = flood_limits

        # what tests inspect
        self.calls: list[ApiCall] = []
        self.updates: list[dict[str, Any]] = []
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.inline_messages: dict[str, ChatMessage] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.flood_rejections = 0

        # the emulator's own bookkeeping
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        # like Telegram's, update ids start at some large number and go up one by one: a bot's
        # journal of handled updates (services/inbox.py) must not meet last run's ids again
        self._update_ids = itertools.count(random.SystemRandom().randrange(10**6, 2 * 10**9))
        self._query_ids = itertools.count(1)
        self._open_queries: dict[str, str] = {}  # query id -> "inline" | "callback"
        self._inline_queries: dict[str, dict[str, Any]] = {}
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._webhook: Webhook | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # webhook deliveries in flight at once: (max_connections, its semaphore)
        self._connections: tuple[int, asyncio.Semaphore] | None = None
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._faults: dict[str, Faults] = {}  # method -> random faults (`inject_faults`)
        self._fault_draws = random.Random(0)
        self.fault_counts: Counter[str] = Counter()  # "429", "5xx", "slow", "reset": how many
        self._buckets: dict[object, Bucket] = {}
        self._chat_marks: dict[int, int] = {}
        self._last_mark = 0
        self._poller: asyncio.Future[bool] | None = None
        self._activity = asyncio.Event()
        self._closing = False
        self._in_flight: set[asyncio.Future[None]] = set()
        # set while running (server.py; the webhook client is used by updates.py)
        self._server: tornado.httpserver.HTTPServer | None = None
        self._port: int | None = None
        self._http: httpx.AsyncClient | None = None
        self._delivery_task: asyncio.Task[None] | None = None

    def _chat(self, chat_id: int) -> Chat:
        """The chat a test names; ValueError (a mistake in the test, not an API error)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}; add_chat() it or send a message first")
        return chat

    def _chat_json(self, chat: Chat) -> dict[str, Any]:
        """The Bot API Chat object."""
        data: dict[str, Any] = {"id": chat.id, "type": chat.type}
        if chat.type == "private":
            user = self._users[chat.id]
            data["first_name"] = user["first_name"]
            if "username" in user:
                data["username"] = user["username"]
            return data
        data["title"] = chat.title
        if chat.username:
            data["username"] = chat.username
        if chat.is_forum:
            data["is_forum"] = True
        return data

    def _message_json(self, message: ChatMessage, *, nested: bool = False) -> dict[str, Any]:
        """The Bot API Message object; a replied-to message is nested one level deep."""
        chat = self._chats[message.chat_id]
        sender = self.bot_user if message.from_bot else self._users[message.sender_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": dict(sender),
            "chat": self._chat_json(chat),
            "date": message.date,
            "text": message.plain,
        }
        if message.entities:
            data["entities"] = [dict(entity) for entity in message.entities]
        if message.message_thread_id is not None:
            data["message_thread_id"] = message.message_thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        replied = chat.messages.get(message.reply_to_message_id or 0)
        if replied is not None and not nested:
            data["reply_to_message"] = self._message_json(replied, nested=True)
        return data

    def _resolve_chat(self, params: dict[str, Any]) -> Chat:
        """The chat a Bot API call names by id or @username, else 400 as Telegram answers."""
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise bad("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            for chat in self._chats.values():
                name = chat.username or self._users.get(chat.id, {}).get("username")
                if name and name.lower() == wanted:
                    return chat
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad("chat not found")
        return chat

    def _check_writable(self, chat: Chat) -> None:
        """403 once the user blocked the bot or the bot was kicked (``block_chat``)."""
        if chat.blocked:
            reason = {
                "private": "bot was blocked by the user",
                "group": "bot was kicked from the group chat",
                "supergroup": "bot was kicked from the supergroup chat",
            }.get(chat.type, "bot is not a member of the channel chat")
            raise ApiError(403, f"Forbidden: {reason}")

    def _wants(self, kind: str) -> bool:
        """Whether the bot's ``allowed_updates`` lets this kind of update through."""
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _push_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update for the next getUpdates, or for the webhook if one is set."""
        if not self._wants(kind):
            _LOG.warning("allowed_updates excludes %s; the update is dropped", kind)
            return
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self._pending.append(update)
        if self._webhook is not None:
            self._outbox.put_nowait(update)
        self._wake_poller()
        self._notify()

    def _wake_poller(self, *, superseded: bool = False) -> None:
        """Answer a waiting long poll now; ``superseded``: with 409, as a newer poll does."""
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(not superseded)

    def _notify(self) -> None:
        """Wake every ``wait_for_*``; a fresh Event each time, so no waiter misses one."""
        self._activity.set()
        self._activity = asyncio.Event()

    def _record(self, call: ApiCall) -> None:
        """Log an answered call (benchmarks/digest_fanout.py wraps this to time calls)."""
        self.calls.append(call)
        _LOG.debug("%s", call)
        self._notify()
