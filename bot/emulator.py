"""A local, strict Telegram Bot API server for end-to-end tests and the console chat.

Telegram is unreachable from the test machines, so PTB is pointed at this emulator through
``base_url``. It speaks real HTTP on 127.0.0.1 and answers like the Bot API does, including
its 400/403/409/429 errors, so formatting bugs fail in tests instead of in production.

Deliberate deviations from Telegram (all stricter, to catch bugs):

* an unknown named HTML entity such as ``&nbsp;`` is rejected (Telegram shows it verbatim);
* ``<a>`` without ``href`` is rejected (Telegram silently drops the link);
* an inline keyboard button must carry exactly one action field (Telegram picks the first);
* webhook deliveries that fail are not retried; the update stays pending instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import EllipsisType
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web

__all__ = [
    "ApiCall",
    "BotApiEmulator",
    "ChatMessage",
    "EntityParseError",
    "ParsedText",
    "WebhookDelivery",
    "html_to_plain",
    "parse_html",
    "utf16_len",
]

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER_LENGTH = 200
DEFAULT_USER_ID = 1_000_001  # sender of group messages when a test does not name one

_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
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
# Telegram does not send these unless they are asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _too_many(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


# --------------------------------------------------------------------------- HTML parsing


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" reason, worded like Telegram's."""


class ParsedText(NamedTuple):
    """What a person sees (``text``) and the Bot API entities laid over it."""

    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "tg-emoji",
        "span",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_SPACE = frozenset(" \t\r\n\v\f")
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAMED_ENTITY_RE = re.compile(r"&[A-Za-z][A-Za-z0-9]*;")


def _decode_html_entity(src: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at ``src[pos] == "&"`` the way Telegram does, or None if it is not one.

    As in Telegram, the trailing ``;`` is optional and invalid references stay literal text.
    """
    end = pos + 1
    n = len(src)
    if end < n and src[end] == "#":
        end += 1
        base, digits = 10, "0123456789"
        if end < n and src[end] == "x":
            end += 1
            base, digits = 16, "0123456789abcdefABCDEF"
        value = 0
        while end < n and src[end] in digits:
            value = value * base + int(src[end], 16)
            end += 1
            if value >= 0x10FFFF:
                return None
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and src[end].isascii() and src[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(src[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and src[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the output where the tag's content starts
    begin: int  # byte offset of "<" in the source, for messages


class _HtmlParser:
    """A port of Telegram's parser for its HTML subset (tdlib ``parse_html``)."""

    def __init__(self, source: str):
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.entities: list[dict[str, Any]] = []
        self.open: list[_OpenTag] = []

    def parse(self) -> ParsedText:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "<":
                self._tag()
            elif char == "&":
                self._entity()
            else:
                self._emit(char)
                self.pos += 1
        if self.open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def _byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8", "surrogatepass"))

    def _fail(self, message: str, index: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {self._byte_offset(index)}")

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def _entity(self) -> None:
        decoded = _decode_html_entity(self.src, self.pos)
        if decoded is not None:
            self._emit(decoded[0])
            self.pos = decoded[1]
            return
        named = _NAMED_ENTITY_RE.match(self.src, self.pos)
        if named:
            raise self._fail(f'Unsupported HTML entity "{named.group()}"', self.pos)
        self._emit("&")
        self.pos += 1

    def _skip_spaces(self, i: int) -> int:
        while i < len(self.src) and self.src[i] in _HTML_SPACE:
            i += 1
        return i

    def _tag(self) -> None:
        src, begin = self.src, self.pos
        n = len(src)
        i = begin + 1
        if i < n and src[i] == "/":
            self._end_tag(begin)
            return
        while i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            i += 1
        if i >= n:
            raise self._fail("Unclosed start tag", begin)
        name = src[begin + 1 : i].lower()
        if name not in _HTML_TAGS:
            raise self._fail(f'Unsupported start tag "{name}"', begin)
        attrs: dict[str, str] = {}
        while True:
            i = self._skip_spaces(i)
            if i >= n:
                raise self._fail(f'Unclosed start tag "{name}"', begin)
            if src[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and src[i] not in _HTML_SPACE and src[i] not in "=>":
                i += 1
            attr = src[attr_begin:i].lower()
            if not attr:
                raise self._fail(f'Empty attribute name in the tag "{name}"', begin)
            i = self._skip_spaces(i)
            if i >= n or src[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                if i >= n:
                    raise self._fail(f'Unclosed start tag "{name}"', begin)
                raise self._fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"',
                    begin,
                )
            i = self._skip_spaces(i + 1)
            if i >= n:
                raise self._fail(f'Unclosed start tag "{name}"', begin)
            value, i = self._attribute_value(i, begin)
            attrs.setdefault(attr, value)
        self.pos = i
        self.open.append(_OpenTag(name, self._argument(name, attrs, begin), self.utf16, begin))

    def _attribute_value(self, i: int, begin: int) -> tuple[str, int]:
        src, n = self.src, len(self.src)
        if src[i] in "\"'":
            quote = src[i]
            i += 1
            chars: list[str] = []
            while i < n and src[i] != quote:
                decoded = _decode_html_entity(src, i) if src[i] == "&" else None
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                else:
                    chars.append(src[i])
                    i += 1
            if i >= n:
                raise self._fail("Unclosed start tag", begin)
            return "".join(chars), i + 1
        token_begin = i
        while i < n and src[i].isascii() and (src[i].isalnum() or src[i] in ".-"):
            i += 1
        if i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            raise self._fail("Unexpected end of name token", token_begin)
        return src[token_begin:i].lower(), i

    def _argument(self, name: str, attrs: dict[str, str], begin: int) -> str:
        if name == "a":
            if "href" not in attrs:
                raise self._fail('Tag "a" must have attribute "href"', begin)
            return attrs["href"]
        if name == "code":
            css = attrs.get("class", "")
            return css.removeprefix("language-") if css.startswith("language-") else ""
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self._fail('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji":
            return attrs.get("emoji-id", "")
        if name == "blockquote":
            return "expandable" if "expandable" in attrs else ""
        return ""

    def _end_tag(self, begin: int) -> None:
        src, n = self.src, len(self.src)
        if not self.open:
            raise self._fail("Unexpected end tag", begin)
        i = begin + 2
        while i < n and src[i] not in _HTML_SPACE and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i]
        i = self._skip_spaces(i)
        if i >= n or src[i] != ">":
            raise self._fail("Unclosed end tag", begin)
        top = self.open.pop()
        if end_name and end_name.lower() != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        self.pos = i + 1
        self._close(top)

    def _close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {"offset": tag.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and (last["offset"], last["length"]) == (tag.offset, length)
        if tag.name in _SIMPLE_ENTITY:
            entity["type"] = _SIMPLE_ENTITY[tag.name]
        elif tag.name == "a":
            entity.update(type="text_link", url=tag.argument)
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "pre":
            if last is not None and same_range and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        elif tag.name == "code":
            if last is not None and same_range and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity["type"] = "code"
            if tag.argument:
                entity["language"] = tag.argument  # kept only if a <pre> wraps it
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        self.entities.append(entity)


def parse_html(text: str) -> ParsedText:
    """Parse Telegram's HTML subset; raise EntityParseError where Telegram would answer 400."""
    return _HtmlParser(text).parse()


def html_to_plain(text: str) -> str:
    """The text a person sees for an HTML-formatted message (for the console chat)."""
    return parse_html(text).text


# --------------------------------------------------------------------------- request checks

_TRIMMED = " \t\r\n\v\f"


def _trim(parsed: ParsedText) -> ParsedText:
    """Strip outer whitespace and clip the entities, as Telegram does before sending."""
    text = parsed.text
    body = text.lstrip(_TRIMMED)
    shift = utf16_len(text[: len(text) - len(body)])
    body = body.rstrip(_TRIMMED)
    total = utf16_len(body)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(body, entities)


def _message_text(text: Any, parse_mode: Any, entities: Any) -> ParsedText:
    """Check a message text like sendMessage does; return what the chat will show."""
    if not isinstance(text, str) or not text:
        raise _bad("message text is empty")
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    if mode == "html":
        try:
            parsed = parse_html(text)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        parsed = ParsedText(text, [])  # accepted as is: the bot does not use Markdown
    elif mode:
        raise _bad("unsupported parse_mode")
    elif entities is None:
        parsed = ParsedText(text, [])
    elif isinstance(entities, list) and all(isinstance(e, dict) for e in entities):
        parsed = ParsedText(text, [dict(e) for e in entities])
    else:
        raise _bad("can't parse entities JSON object")
    parsed = _trim(parsed)
    if not parsed.text:
        raise _bad("message text is empty")
    if utf16_len(parsed.text) > MAX_MESSAGE_LENGTH:
        raise _bad("message is too long")
    return parsed


_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BAD_MARKUP = "can't parse reply keyboard markup JSON object"


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(row, list) for row in value)


def _check_reply_markup(markup: Any, *, inline_only: bool = False) -> None:
    """Reject keyboards Telegram would reject; ``inline_only`` for edits and inline results."""
    if not isinstance(markup, dict):
        raise _bad(_BAD_MARKUP)
    if "inline_keyboard" in markup:
        if not _is_rows(markup["inline_keyboard"]):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        for row in markup["inline_keyboard"]:
            for button in row:
                _check_inline_button(button)
        return
    if inline_only:
        raise _bad(_BAD_MARKUP)
    if "keyboard" in markup:
        if not _is_rows(markup["keyboard"]):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in markup["keyboard"]:
            for button in row:
                if not isinstance(button, str | dict) or (
                    isinstance(button, dict) and not isinstance(button.get("text"), str)
                ):
                    raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise _bad(_BAD_MARKUP)


def _check_inline_button(button: Any) -> None:
    def fail(reason: str) -> ApiError:
        return _bad(f"can't parse inline keyboard button: {reason}")

    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise fail('Field "text" must be of type String')
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise fail("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise fail(f"exactly one action field must be used, got {', '.join(actions)}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme.lower() not in ("http", "https", "tg"):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
        if parts.scheme.lower() != "tg" and not parts.hostname:
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_inline_result(result: Any) -> None:
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise _bad("can't parse inline query result")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
        raise _bad("RESULT_ID_INVALID")
    content = result.get("input_message_content")
    if result["type"] == "article":
        for name, kind, of_type in (
            ("title", str, "String"),
            ("input_message_content", dict, "Object"),
        ):
            if not isinstance(result.get(name), kind):
                raise _bad(
                    f'can\'t parse InlineQueryResultArticle: Field "{name}" must be of type '
                    f"{of_type}"
                )
    if isinstance(content, dict) and "message_text" in content:
        _message_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
    if "reply_markup" in result:
        _check_reply_markup(result["reply_markup"], inline_only=True)


_COMMAND_OR_MENTION = re.compile(
    r"(?P<bot_command>(?<![\w/])/\w{1,64}(?:@\w{3,32})?)|(?P<mention>(?<![\w@])@\w{3,32})",
    re.ASCII,
)


def _commands_and_mentions(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, matched text, entity) for each /command and @mention, as Telegram marks them."""
    found = []
    for match in _COMMAND_OR_MENTION.finditer(text):
        kind = match.lastgroup or ""
        entity = {
            "type": kind,
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        found.append((kind, match.group(), entity))
    return found


# --------------------------------------------------------------------------- parameters

# PTB sends every value as a form field; non-strings are JSON-encoded. A text such as "[1]" or
# "42" is indistinguishable from JSON, so values are decoded by parameter name, never by shape.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "results",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "button",
        "media",
        "input_message_content",
    }
)
_NUMBER_PARAMS = frozenset(
    {
        "user_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
        "show_alert",
        "is_personal",
        "drop_pending_updates",
        "disable_web_page_preview",
    }
)
_INTEGER = re.compile(r"[+-]?\d+")


def _decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn transport strings into the JSON values Telegram would read."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if name in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if name == "reply_markup" else name
                    raise _bad(f"can't parse {what} JSON object") from None
            elif name in _NUMBER_PARAMS:
                value = _number(name, value)
            elif name == "chat_id" and _INTEGER.fullmatch(value.strip()):
                value = int(value)
            elif name in _BOOL_PARAMS:
                value = value.strip().lower() in ("true", "1")
        params[name] = value
    return params


def _number(name: str, value: str) -> int | float:
    try:
        return int(value) if _INTEGER.fullmatch(value.strip()) else float(value)
    except ValueError:
        raise _bad(f"wrong parameter {name} in request") from None


# --------------------------------------------------------------------------- records


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
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Chat:
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
class _Bucket:
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


# --------------------------------------------------------------------------- the emulator

DEFAULT_TOKEN = "123456789:AAEmulatorTokenForLocalTestsOnly0000"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}

_Handler = Callable[["BotApiEmulator", dict[str, Any]], Any]
_METHODS: dict[str, tuple[str, _Handler]] = {}


def _api(name: str) -> Callable[[_Handler], _Handler]:
    """Register a Bot API method; lookups are case-insensitive, as in Telegram."""

    def register(handler: _Handler) -> _Handler:
        _METHODS[name.lower()] = (name, handler)
        return handler

    return register


def _canonical(method: str) -> str:
    entry = _METHODS.get(method.lower())
    if entry is None:
        raise ValueError(f"the emulator does not implement {method!r}")
    return entry[0]


class BotApiEmulator:
    """A Bot API server for one bot on 127.0.0.1, plus the users' side of the conversation.

    Inject traffic with ``send_user_message``/``send_inline_query``/``press_button``; inspect
    what the bot did with ``calls``, ``messages()``, ``inline_answers``... and await it with the
    ``wait_for_*`` helpers, which raise AssertionError with the recent calls on timeout.
    """

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

        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: dict[str, str] = {}  # query id -> "inline" | "callback"
        self._inline_queries: dict[str, dict[str, Any]] = {}
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._webhook: _Webhook | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._buckets: dict[object, _Bucket] = {}
        self._chat_marks: dict[int, int] = {}
        self._last_mark = 0
        self._poller: asyncio.Future[bool] | None = None
        self._activity = asyncio.Event()
        self._closing = False
        self._in_flight: set[asyncio.Future[None]] = set()
        self._server: tornado.httpserver.HTTPServer | None = None
        self._port: int | None = None
        self._http: httpx.AsyncClient | None = None
        self._delivery_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1, on the running event loop."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        app = tornado.web.Application(
            [(r"/bot([^/]*)/([^/]*)", _ApiHandler, {"emulator": self})],
            default_handler_class=_NotFoundHandler,
            log_function=lambda _handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)
        self._port = sockets[0].getsockname()[1]
        self._closing = False
        self._http = httpx.AsyncClient(timeout=10)
        self._delivery_task = asyncio.create_task(self._deliver_forever())
        _LOG.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Answer pending long polls, close all connections and the webhook client."""
        if self._server is None:
            return
        self._closing = True
        self._wake_poller()
        if self._in_flight:  # let answered long polls reach their clients
            await asyncio.wait(set(self._in_flight), timeout=2)
        self._server.stop()
        await self._server.close_all_connections()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
        if self._http is not None:
            await self._http.aclose()
        self._server = self._http = self._delivery_task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("start() the emulator first")
        return self._port

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url()`` / ``Bot(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/bot"

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
            chat = self._chats[chat_id] = _Chat(chat_id, type)
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
            error = _too_many(retry_after)
        else:
            error = ApiError(error_code, description or HTTPStatus(error_code).phrase)
        self._failures[_canonical(method)].append(error)

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
        found = _commands_and_mentions(text)
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
            parsed = _message_text(text, content.get("parse_mode"), content.get("entities"))
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

    # ----------------------------------------------------------------- inspection

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

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> ChatMessage:
        """A user writes `text`; returns the bot's one reply (fails if it sends more or none)."""
        self.send_user_message(chat_id, text, **kwargs)
        [reply] = await self.wait_for_messages(chat_id)
        return reply

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
        name = _canonical(method)
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

    async def post_to_webhook(
        self, update: dict[str, Any], *, secret_token: str | EllipsisType | None = ...
    ) -> WebhookDelivery:
        """POST an update to the webhook now, with the configured secret unless one is given
        (None sends no secret header); records and returns the delivery."""
        webhook = self._webhook
        if webhook is None or self._http is None:
            raise RuntimeError("no webhook is set, or the emulator is not running")
        secret = webhook.secret_token if secret_token is ... else secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            response = await self._http.post(webhook.url, json=update, headers=headers)
        except httpx.HTTPError as exc:
            delivery = WebhookDelivery(update["update_id"], webhook.url, secret, 0, repr(exc))
        else:
            status = response.status_code
            error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
            delivery = WebhookDelivery(update["update_id"], webhook.url, secret, status, error)
        self.webhook_deliveries.append(delivery)
        self._notify()
        return delivery

    # ----------------------------------------------------------------- internals

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}; add_chat() it or send a message first")
        return chat

    def _ensure_chat(self, chat_id: int, chat_type: str | None) -> _Chat:
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

    def _chat_json(self, chat: _Chat) -> dict[str, Any]:
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

    def _bot_sees(
        self, chat: _Chat, message: ChatMessage, found: list[tuple[str, str, dict[str, Any]]]
    ) -> bool:
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
        data = [b["callback_data"] for b in message.buttons if "callback_data" in b]
        if callback_data not in data:
            raise ValueError(f"the message has no button {callback_data!r}; it has {data}")

    def _new_query_id(self, kind: str) -> str:
        query_id = str(4_000_000_000_000 + next(self._query_ids))
        self._open_queries[query_id] = kind
        return query_id

    def _wants(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _push_update(self, kind: str, payload: dict[str, Any]) -> None:
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
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(not superseded)

    def _notify(self) -> None:
        self._activity.set()
        self._activity = asyncio.Event()

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        _LOG.debug("%s", call)
        self._notify()

    async def _wait(
        self, check: Callable[[], _T | None], timeout: float, what: Callable[[], str], since: int
    ) -> _T:
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

    # ----------------------------------------------------------------- HTTP dispatch

    async def _serve(self, token: str, method: str, raw: dict[str, Any]) -> tuple[int, dict]:
        entry = _METHODS.get(method.lower())
        name = entry[0] if entry else method
        params = dict(raw)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            params = _decode_params(raw)
            if self._failures[name]:
                raise self._failures[name].popleft()
            result = entry[1](self, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            self._record(ApiCall(name, params, exc.code, None, exc.description))
            return exc.code, exc.body()
        except Exception:
            _LOG.exception("the emulator failed on %s(%s)", name, params)
            self._record(ApiCall(name, params, 500, None, "Internal Server Error"))
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        self._record(ApiCall(name, params, 200, result))
        return 200, {"ok": True, "result": result}

    def _resolve_chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            for chat in self._chats.values():
                name = chat.username or self._users.get(chat.id, {}).get("username")
                if name and name.lower() == wanted:
                    return chat
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _check_writable(self, chat: _Chat) -> None:
        if chat.blocked:
            reason = {
                "private": "bot was blocked by the user",
                "group": "bot was kicked from the group chat",
                "supergroup": "bot was kicked from the supergroup chat",
            }.get(chat.type, "bot is not a member of the channel chat")
            raise ApiError(403, f"Forbidden: {reason}")

    def _check_flood(self, chat: _Chat) -> None:
        if not self.flood_limits:
            return
        per_chat = (3, 1.0) if chat.type == "private" else (20, 20 / 60)
        buckets = [
            self._buckets.setdefault("all", _Bucket(30, 30)),
            self._buckets.setdefault(chat.id, _Bucket(*per_chat)),
        ]
        now = time.monotonic()
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            self.flood_rejections += 1
            raise _too_many(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1

    def _reply_target(self, chat: _Chat, params: dict[str, Any]) -> ChatMessage | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        if reply.get("chat_id") not in (None, chat.id):
            raise _bad("replies to other chats are not supported by the emulator")
        original = chat.messages.get(reply["message_id"])
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        if "quote" in reply and reply["quote"] not in original.plain:
            raise _bad("QUOTE_TEXT_INVALID")
        return original

    def _editable(self, params: dict[str, Any]) -> ChatMessage:
        if params.get("inline_message_id") is not None:
            message = self.inline_messages.get(str(params["inline_message_id"]))
            if message is None:
                raise _bad("MESSAGE_ID_INVALID")
            return message
        chat = self._resolve_chat(params)
        self._check_writable(chat)
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return message

    def _edited_result(self, message: ChatMessage) -> dict[str, Any] | bool:
        message.edit_date = int(time.time())
        return True if message.inline_message_id else self._message_json(message)

    # ----------------------------------------------------------------- Bot API methods

    @_api("getMe")
    def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
        }

    @_api("getUpdates")
    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        offset = params.get("offset", 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        self._wake_poller(superseded=True)
        if not self._pending and timeout and not self._closing:
            poller = self._poller = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait({poller}, timeout=timeout)
            finally:
                if self._poller is poller:
                    self._poller = None
            if poller.done() and not poller.result():
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
        return self._pending[:limit]

    def _set_allowed_updates(self, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad("can't parse allowed_updates JSON object")
        self._allowed_updates = frozenset(value) if value else None

    @_api("setWebhook")
    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if not local and parts.port not in (None, 80, 88, 443, 8443):
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = _Webhook(
            url, secret, int(params.get("max_connections", 40)), params.get("ip_address")
        )
        self._wake_poller()
        for update in self._pending:
            self._outbox.put_nowait(update)
        return True

    @_api("deleteWebhook")
    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @_api("getWebhookInfo")
    def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            hook = self._webhook
            info.update(url=hook.url, max_connections=hook.max_connections)
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info.update(
                    last_error_date=hook.last_error_date,
                    last_error_message=hook.last_error_message,
                )
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _deliver_forever(self) -> None:
        """Deliver injected updates to the webhook one at a time, in order."""
        while True:
            update = await self._outbox.get()
            hook = self._webhook
            if hook is None or update not in self._pending:
                continue
            try:
                delivery = await self.post_to_webhook(update)
            except Exception:
                _LOG.exception("webhook delivery of update %s failed", update["update_id"])
                continue
            if delivery.ok:
                if update in self._pending:
                    self._pending.remove(update)
            else:
                hook.last_error_date = int(time.time())
                hook.last_error_message = delivery.error

    @_api("sendMessage")
    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        parsed = _message_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = params.get("reply_markup")
        if markup is not None:
            _check_reply_markup(markup)
        chat = self._resolve_chat(params)
        self._check_writable(chat)
        thread_id = params.get("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.threads:
            raise _bad("message thread not found")
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

    @_api("editMessageText")
    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        parsed = _message_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = params.get("reply_markup")
        if markup is not None:
            _check_reply_markup(markup, inline_only=True)
        message = self._editable(params)
        # Like Telegram, an edit without reply_markup removes the keyboard.
        if (message.plain, message.entities, message.reply_markup) == (
            parsed.text,
            parsed.entities,
            markup,
        ):
            raise _bad(_NOT_MODIFIED)
        message.text, message.plain, message.entities = params["text"], *parsed
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        return self._edited_result(message)

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = params.get("reply_markup")
        if markup is not None:
            _check_reply_markup(markup, inline_only=True)
        message = self._editable(params)
        if message.reply_markup == markup:
            raise _bad(_NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited_result(message)

    @_api("deleteMessage")
    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        message = chat.messages.get(params.get("message_id") or 0)
        if message is None:
            raise _bad("message to delete not found")
        bot_is_admin = self.bot_id in chat.admin_ids or self.bot_id == chat.creator_id
        if not (message.from_bot or chat.type == "private" or bot_is_admin):
            raise _bad("message can't be deleted")
        del chat.messages[message.message_id]
        return True

    @_api("sendChatAction")
    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._check_writable(chat)
        self.chat_actions.append((chat.id, action))
        return True

    @_api("answerInlineQuery")
    def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad('parameter "results" is required')
        for result in results:
            _check_inline_result(result)
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        ids = [result["id"] for result in results]
        if len(set(ids)) != len(ids):
            raise _bad("RESULT_ID_DUPLICATE")
        if len(str(params.get("next_offset", "")).encode()) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        if self._open_queries.get(query_id) != "inline":
            raise _bad(_QUERY_TOO_OLD)
        del self._open_queries[query_id]
        self.inline_answers[query_id] = {k: v for k, v in params.items() if k != "inline_query_id"}
        return True

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if isinstance(text, str) and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        if self._open_queries.get(query_id) != "callback":
            raise _bad(_QUERY_TOO_OLD)
        del self._open_queries[query_id]
        self.callback_answers[query_id] = {
            k: v for k, v in params.items() if k != "callback_query_id"
        }
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    @_api("setMyCommands")
    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    @_api("deleteMyCommands")
    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_description(self, params: dict[str, Any], name: str, limit: int) -> bool:
        text = params.get(name) or ""
        if len(text) > limit:
            raise _bad(f"{name} is too long")
        self.descriptions[name, params.get("language_code") or ""] = text
        return True

    @_api("setMyDescription")
    def _set_my_description(self, params: dict[str, Any]) -> bool:
        return self._set_description(params, "description", 512)

    @_api("setMyShortDescription")
    def _set_my_short_description(self, params: dict[str, Any]) -> bool:
        return self._set_description(params, "short_description", 120)

    @_api("getMyDescription")
    def _get_my_description(self, params: dict[str, Any]) -> dict[str, str]:
        key = ("description", params.get("language_code") or "")
        return {"description": self.descriptions.get(key, "")}

    @_api("getMyShortDescription")
    def _get_my_short_description(self, params: dict[str, Any]) -> dict[str, str]:
        key = ("short_description", params.get("language_code") or "")
        return {"short_description": self.descriptions.get(key, "")}

    @_api("getChat")
    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        return {
            **self._chat_json(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_json(self, chat: _Chat, user_id: int) -> dict[str, Any]:
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        if user_id == chat.creator_id:
            return {"status": "creator", "user": dict(user), "is_anonymous": False}
        if user_id in chat.admin_ids:
            return {"status": "administrator", "user": dict(user), **_ADMIN_RIGHTS}
        return {"status": "member", "user": dict(user)}

    @_api("getChatMember")
    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        if not isinstance(params.get("user_id"), int):
            raise _bad("invalid user_id specified")
        return self._member_json(chat, params["user_id"])

    @_api("getChatAdministrators")
    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        ids = [*([chat.creator_id] if chat.creator_id is not None else []), *chat.admin_ids]
        return [self._member_json(chat, user_id) for user_id in dict.fromkeys(ids)]


# --------------------------------------------------------------------------- HTTP layer


class _ApiHandler(tornado.web.RequestHandler):
    """Serves ``/bot<token>/<method>``; a client hang-up cancels the call (long polls)."""

    SUPPORTED_METHODS = ("GET", "POST")

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self.gone.set()

    def _raw_params(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            name: values[-1].decode("utf-8", "replace")
            for name, values in self.request.arguments.items()
        }
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type.lower() == "application/json" and self.request.body.strip():
            body = json.loads(self.request.body)
            if not isinstance(body, dict):
                raise ValueError("the JSON body is not an object")
            raw.update(body)
        return raw

    async def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        with contextlib.suppress(tornado.iostream.StreamClosedError):
            await self.finish(json.dumps(body, ensure_ascii=False))

    async def get(self, token: str, method: str) -> None:
        in_flight = self.emulator._in_flight
        done = asyncio.get_running_loop().create_future()
        in_flight.add(done)
        try:
            await self._answer(token, method)
        finally:
            done.set_result(None)
            in_flight.discard(done)

    async def _answer(self, token: str, method: str) -> None:
        try:
            raw = self._raw_params()
        except ValueError:
            await self._reply(400, _bad("can't parse JSON request body").body())
            return
        serve = asyncio.ensure_future(self.emulator._serve(token, method, raw))
        gone = asyncio.ensure_future(self.gone.wait())
        await asyncio.wait({serve, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not serve.done():
            serve.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serve
            return
        await self._reply(*serve.result())

    async def post(self, token: str, method: str) -> None:
        await self.get(token, method)


class _NotFoundHandler(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
