"""Bot API methods that write to chats: sendMessage, edits, deleteMessage, sendChatAction.

Sending also enforces what Telegram enforces around a message: blocked chats (403), forum
threads, reply targets and, with ``flood_limits``, the sending rate (429).
"""

from __future__ import annotations

import math
import time
from typing import Any

from emulator.core import EmulatorCore
from emulator.registry import api
from emulator.state import Bucket, Chat, ChatMessage
from emulator.validation import bad, check_reply_markup, message_text, too_many

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


class MessageMethods(EmulatorCore):
    """The bot's messages: sent, edited, deleted, and "typing..." actions."""

    # ----------------------------------------------------------------- methods

    @api("sendMessage")
    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        parsed = message_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup)
        chat = self._resolve_chat(params)
        self._check_writable(chat)
        thread_id = params.get("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.threads:
            raise bad("message thread not found")
        replied = self._reply_target(chat, params)
        if thread_id is None and replied is not None and chat.is_forum:
            thread_id = replied.message_thread_id
        self._check_flood(chat)
        message = ChatMessage(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            sender_id=self.bot_id,
            from_bot=True,
            text=params["text"],
            plain=parsed.text,
            entities=parsed.entities,
            date=int(time.time()),
            seq=len(self.calls),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=replied.message_id if replied else None,
            message_thread_id=thread_id,
        )
        chat.messages[message.message_id] = message
        return self._message_json(message)

    @api("editMessageText")
    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        parsed = message_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup, inline_only=True)
        message = self._editable(params)
        # Like Telegram, an edit without reply_markup removes the keyboard.
        if (message.plain, message.entities, message.reply_markup) == (
            parsed.text,
            parsed.entities,
            markup,
        ):
            raise bad(_NOT_MODIFIED)
        message.text, message.plain, message.entities = params["text"], *parsed
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        return self._edited_result(message)

    @api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup, inline_only=True)
        message = self._editable(params)
        if message.reply_markup == markup:
            raise bad(_NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited_result(message)

    @api("deleteMessage")
    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        message = chat.messages.get(params.get("message_id") or 0)
        if message is None:
            raise bad("message to delete not found")
        bot_is_admin = self.bot_id in chat.admin_ids or self.bot_id == chat.creator_id
        if not (message.from_bot or chat.type == "private" or bot_is_admin):
            raise bad("message can't be deleted")
        del chat.messages[message.message_id]
        return True

    @api("sendChatAction")
    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self._check_writable(chat)
        self.chat_actions.append((chat.id, action))
        return True

    # ----------------------------------------------------------------- checks

    def _check_flood(self, chat: Chat) -> None:
        """Telegram's limits: 30 messages/s overall, 1/s per private chat (bursts of 3),
        20/min per group."""
        if not self.flood_limits:
            return
        per_chat = (3, 1.0) if chat.type == "private" else (20, 20 / 60)
        buckets = [
            self._buckets.setdefault("all", Bucket(30, 30)),
            self._buckets.setdefault(chat.id, Bucket(*per_chat)),
        ]
        now = time.monotonic()
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            self.flood_rejections += 1
            raise too_many(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1

    def _reply_target(self, chat: Chat, params: dict[str, Any]) -> ChatMessage | None:
        """The message replied to, from ``reply_parameters`` or the older
        ``reply_to_message_id``; None if there is none."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad("can't parse reply parameters JSON object")
        if reply.get("chat_id") not in (None, chat.id):
            raise bad("replies to other chats are not supported by the emulator")
        original = chat.messages.get(reply["message_id"])
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad("message to be replied not found")
        if "quote" in reply and reply["quote"] not in original.plain:
            raise bad("QUOTE_TEXT_INVALID")
        return original

    def _editable(self, params: dict[str, Any]) -> ChatMessage:
        """The bot message an edit names, in a chat or sent via inline mode."""
        if params.get("inline_message_id") is not None:
            message = self.inline_messages.get(str(params["inline_message_id"]))
            if message is None:
                raise bad("MESSAGE_ID_INVALID")
            return message
        chat = self._resolve_chat(params)
        self._check_writable(chat)
        if params.get("message_id") is None:
            raise bad("message identifier is not specified")
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad("message to edit not found")
        if not message.from_bot:
            raise bad("message can't be edited")
        return message

    def _edited_result(self, message: ChatMessage) -> dict[str, Any] | bool:
        """Edits answer the Message, or True for inline messages, as in Telegram."""
        message.edit_date = int(time.time())
        return True if message.inline_message_id else self._message_json(message)
