"""What the emulator records and holds: API calls, chats and their messages, webhook state.

The public records (ApiCall, ChatMessage, WebhookDelivery) are what tests inspect; Chat,
Webhook and Bucket are the emulator's own bookkeeping.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class ApiCall:
    """One request the emulator answered (``status`` 200 or the error code it returned)."""

    method: str
    params: dict[str, Any]
    status: int
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("results", "reply_markup")}
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({json.dumps(shown, ensure_ascii=False)[:300]}) -> {outcome}"


@dataclass
class ChatMessage:
    """A message as a chat holds it: the raw text sent plus what a person sees."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    text: str  # as the bot sent it (e.g. HTML source) or as the user typed it
    plain: str  # what a person sees, after entity parsing and trimming
    entities: list[dict[str, Any]]
    date: int
    seq: int  # len(emulator.calls) when it was created; compare with mark()
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    edit_date: int | None = None
    inline_message_id: str | None = None  # set for messages sent via inline mode

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook; ``status`` 0 means no HTTP answer."""

    update_id: int
    url: str
    secret_token: str | None
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Webhook:
    """The webhook set by setWebhook, and its last delivery error for getWebhookInfo."""

    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Chat:
    """A chat: its messages by id (deleted ones removed), admins, forum threads."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    admin_ids: list[int] = field(default_factory=list)
    creator_id: int | None = None
    blocked: bool = False
    threads: set[int] = field(default_factory=set)

    def new_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1


@dataclass
class Bucket:
    """Token bucket: ``capacity`` messages at once, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class Faults:
    """Random failures for one method (`BotApiEmulator.inject_faults`): shares of its calls
    answered 429 (with ``retry_after``) or 500/502 without being carried out, carried out but
    answered only after ``slow_seconds`` (past the client's read timeout), or dropped before
    being read (the connection closed without an answer)."""

    too_many: float = 0.0
    server_error: float = 0.0
    slow: float = 0.0
    reset: float = 0.0
    retry_after: int = 1
    slow_seconds: float = 6.0

    def pick(self, draw: float) -> str | None:
        """The fault for a uniform `draw` in [0, 1), or None."""
        for kind, share in (
            ("429", self.too_many),
            ("5xx", self.server_error),
            ("slow", self.slow),
            ("reset", self.reset),
        ):
            if draw < share:
                return kind
            draw -= share
        return None
