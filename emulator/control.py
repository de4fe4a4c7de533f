"""The users' side: set up the world (users, chats, admins, failures) and act in it.

Tests and the console chat (bot/chat.py) call these to write messages, send inline queries,
pick inline results and press buttons; each action becomes an update for the bot.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from emulator.core import DEFAULT_USER_ID
from emulator.entities import commands_and_mentions
from emulator.inspection import Inspection
from emulator.registry import canonical
from emulator.state import Chat, ChatMessage, Faults
from emulator.validation import ApiError, message_text, too_many

_LOG = logging.getLogger(__name__)


class Control(Inspection):
    """World setup and user actions, on top of inspection (``say`` writes, then waits)."""

    # ----------------------------------------------------------------- world setup

    def add_user(
        self, user_id: int, first_name: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        """Register (or rename) a user; returns its Telegram User object."""
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )
        if first_name is not None:
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> dict[str, Any]:
        """Register a chat the bot may write to. A private chat's id is its user's id and its
        name comes from ``add_user``; ``title`` is for groups."""
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = Chat(chat_id, type)
        chat.type = type
        if type == "private":
            self.add_user(chat_id, username=username)
        else:
            chat.title = title or chat.title or f"Chat {chat_id}"
            chat.username = username or chat.username
            chat.is_forum = is_forum
        return self._chat_json(chat)

    def set_admins(
        self, chat_id: int, admin_ids: list[int], *, creator_id: int | None = None
    ) -> None:
        """Set who getChatMember reports as administrator/creator (include bot_id to make the
        bot an admin: it then sees all group messages and may delete them)."""
        chat = self._chat(chat_id)
        for user_id in [*admin_ids, *([creator_id] if creator_id is not None else [])]:
            if user_id != self.bot_id:
                self.add_user(user_id)
        chat.admin_ids = list(admin_ids)
        chat.creator_id = creator_id

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        """Make every send to the chat fail with 403, as after the user blocked the bot."""
        self._chat(chat_id).blocked = blocked

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        *,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next call of ``method`` fail; calls stack up (one failure per call).
        429 answers carry ``retry_after``; other codes ``description`` (default: the phrase)."""
        if error_code == HTTPStatus.TOO_MANY_REQUESTS:
            error = too_many(retry_after)
        else:
            error = ApiError(error_code, description or HTTPStatus(error_code).phrase)
        self._failures[canonical(method)].append(error)

    def inject_faults(self, methods: Iterable[str], seed: int = 0, **shares: Any) -> None:
        """From now on, fail a random share of the calls of ``methods`` (see ``Faults``:
        ``too_many``, ``server_error``, ``slow``, ``reset``, ``retry_after``,
        ``slow_seconds``); counts by kind in ``fault_counts``. No methods: faults off."""
        self._fault_draws = random.Random(seed)
        self._faults = {canonical(method): Faults(**shares) for method in methods}

    def draw_fault(self, method: str) -> str | None:
        """The fault for this call of ``method``, if any (the server acts on it)."""
        faults = self._faults.get(method)
        if faults is None:
            return None
        kind = faults.pick(self._fault_draws.random())
        if kind is not None:
            self.fault_counts[kind] += 1
        return kind

    # ----------------------------------------------------------------- the users' side

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text``; returns the Message. In groups with privacy mode on, the bot
        only gets commands, @mentions of it and replies to its messages."""
        chat = self._ensure_chat(chat_id, chat_type)
        if chat.type == "private":
            if user_id not in (None, chat.id):
                raise ValueError("in a private chat the sender is the chat's user")
            sender = chat.id
        else:
            sender = DEFAULT_USER_ID if user_id is None else user_id
        self.add_user(sender)
        if reply_to_message_id is not None and reply_to_message_id not in chat.messages:
            raise ValueError(f"chat {chat_id} has no message {reply_to_message_id}")
        if message_thread_id is not None:
            chat.threads.add(message_thread_id)
        found = commands_and_mentions(text)
        message = ChatMessage(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            sender_id=sender,
            from_bot=False,
            text=text,
            plain=text,
            entities=[entity for _, _, entity in found],
            date=int(time.time()),
            seq=len(self.calls),
            reply_to_message_id=reply_to_message_id,
            message_thread_id=message_thread_id,
        )
        chat.messages[message.message_id] = message
        payload = self._message_json(message)
        self._chat_marks[chat.id] = self._last_mark = len(self.calls)
        if self._bot_sees(chat, message, found):
            self._push_update("message", payload)
        else:
            _LOG.info("privacy mode: the bot does not see %r in chat %s", text, chat.id)
        return payload

    def send_inline_query(
        self, user_id: int, query: str, offset: str = "", chat_type: str = "private"
    ) -> str:
        """A user types ``@bot query``; returns the inline query id to answer."""
        query_id = self._new_query_id("inline")
        payload = {
            "id": query_id,
            "from": self.add_user(user_id),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self._inline_queries[query_id] = payload
        self._last_mark = len(self.calls)
        self._push_update("inline_query", payload)
        return query_id

    def choose_inline_result(self, inline_query_id: str, result_id: str) -> dict[str, Any]:
        """The user picks one of the bot's answered results; returns the ChosenInlineResult.
        A result with a keyboard becomes an inline message (``inline_messages``)."""
        answer = self.inline_answers.get(inline_query_id)
        if answer is None:
            raise ValueError(f"inline query {inline_query_id} was not answered")
        results = {result["id"]: result for result in answer["results"]}
        if result_id not in results:
            raise ValueError(f"no result {result_id!r}; answered: {sorted(results)}")
        query = self._inline_queries[inline_query_id]
        payload: dict[str, Any] = {
            "result_id": result_id,
            "from": query["from"],
            "query": query["query"],
        }
        result = results[result_id]
        if "reply_markup" in result:
            content = result.get("input_message_content") or {}
            text = content.get("message_text") or result.get("title") or result_id
            parsed = message_text(text, content.get("parse_mode"), content.get("entities"))
            inline_message_id = f"inline-{len(self.inline_messages) + 1}"
            self.inline_messages[inline_message_id] = ChatMessage(
                chat_id=0,
                message_id=0,
                sender_id=self.bot_id,
                from_bot=True,
                text=text,
                plain=parsed.text,
                entities=parsed.entities,
                date=int(time.time()),
                seq=len(self.calls),
                parse_mode=content.get("parse_mode"),
                reply_markup=result["reply_markup"],
                inline_message_id=inline_message_id,
            )
            payload["inline_message_id"] = inline_message_id
        self._last_mark = len(self.calls)
        self._push_update("chosen_inline_result", payload)
        return payload

    def press_button(
        self, chat_id: int, message_id: int, callback_data: str, *, user_id: int | None = None
    ) -> str:
        """A user presses a callback button of a bot message; returns the callback query id."""
        chat = self._chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or not message.from_bot:
            raise ValueError(f"chat {chat_id} has no bot message {message_id}")
        self._require_button(message, callback_data)
        sender = chat.id if chat.type == "private" else (user_id or DEFAULT_USER_ID)
        query_id = self._new_query_id("callback")
        self._chat_marks[chat.id] = self._last_mark = len(self.calls)
        self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.add_user(sender),
                "message": self._message_json(message),
                "chat_instance": str(chat.id),
                "data": callback_data,
            },
        )
        return query_id

    def press_inline_button(
        self, inline_message_id: str, callback_data: str, *, user_id: int = DEFAULT_USER_ID
    ) -> str:
        """A user presses a callback button of a message sent via inline mode."""
        message = self.inline_messages.get(inline_message_id)
        if message is None:
            raise ValueError(f"no inline message {inline_message_id!r}")
        self._require_button(message, callback_data)
        query_id = self._new_query_id("callback")
        self._last_mark = len(self.calls)
        self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.add_user(user_id),
                "inline_message_id": inline_message_id,
                "chat_instance": inline_message_id,
                "data": callback_data,
            },
        )
        return query_id

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> ChatMessage:
        """A user writes `text`; returns the bot's one reply (fails if it sends more or none)."""
        self.send_user_message(chat_id, text, **kwargs)
        [reply] = await self.wait_for_messages(chat_id)
        return reply

    # ----------------------------------------------------------------- internals

    def _ensure_chat(self, chat_id: int, chat_type: str | None) -> Chat:
        """The chat, created on first use with the type its id implies unless one is given."""
        chat = self._chats.get(chat_id)
        if chat is not None:
            if chat_type not in (None, chat.type):
                raise ValueError(f"chat {chat_id} is a {chat.type}, not a {chat_type}")
            return chat
        if chat_type is None:
            supergroup = chat_id <= -1_000_000_000_000
            chat_type = "private" if chat_id > 0 else "supergroup" if supergroup else "group"
        self.add_chat(chat_id, chat_type)
        return self._chats[chat_id]

    def _bot_sees(
        self, chat: Chat, message: ChatMessage, found: list[tuple[str, str, dict[str, Any]]]
    ) -> bool:
        """Privacy mode: in groups the bot sees commands, @mentions of it and replies to it,
        unless it is an admin."""
        if chat.type == "private" or not self.privacy_mode:
            return True
        if self.bot_id in chat.admin_ids or self.bot_id == chat.creator_id:
            return True
        username = self.bot_user["username"].lower()
        for kind, token, _ in found:
            target = token.partition("@")[2] if kind == "bot_command" else token[1:]
            if target.lower() == username or (kind == "bot_command" and not target):
                return True
        replied = chat.messages.get(message.reply_to_message_id or 0)
        return replied is not None and replied.from_bot

    def _require_button(self, message: ChatMessage, callback_data: str) -> None:
        """A user can only press a button the message shows."""
        data = [b["callback_data"] for b in message.buttons if "callback_data" in b]
        if callback_data not in data:
            raise ValueError(f"the message has no button {callback_data!r}; it has {data}")

    def _new_query_id(self, kind: str) -> str:
        """A fresh query id, answerable once by the matching answer method (queries.py)."""
        query_id = str(4_000_000_000_000 + next(self._query_ids))
        self._open_queries[query_id] = kind
        return query_id
