"""The Bot API's request checks and its error answers.

Each check rejects what Telegram rejects, with Telegram's wording, by raising ApiError, which
the server turns into the JSON error answer. Stricter than Telegram in two places (see the
package docstring): an inline keyboard button must carry exactly one action field, and HTML
entity errors include ``&nbsp;`` and ``<a>`` without ``href``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from emulator.entities import EntityParseError, ParsedText, parse_html, utf16_len

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CALLBACK_DATA_BYTES = 64


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


def bad(description: str) -> ApiError:
    """400 Bad Request, the answer to most mistakes."""
    return ApiError(400, f"Bad Request: {description}")


def too_many(retry_after: int) -> ApiError:
    """429 with ``retry_after``, which PTB's rate limiter obeys."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


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


def message_text(text: Any, parse_mode: Any, entities: Any) -> ParsedText:
    """Check a message text like sendMessage does; return what the chat will show."""
    if not isinstance(text, str) or not text:
        raise bad("message text is empty")
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    if mode == "html":
        try:
            parsed = parse_html(text)
        except EntityParseError as exc:
            raise bad(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        parsed = ParsedText(text, [])  # accepted as is: the bot does not use Markdown
    elif mode:
        raise bad("unsupported parse_mode")
    elif entities is None:
        parsed = ParsedText(text, [])
    elif isinstance(entities, list) and all(isinstance(e, dict) for e in entities):
        parsed = ParsedText(text, [dict(e) for e in entities])
    else:
        raise bad("can't parse entities JSON object")
    parsed = _trim(parsed)
    if not parsed.text:
        raise bad("message text is empty")
    if utf16_len(parsed.text) > MAX_MESSAGE_LENGTH:
        raise bad("message is too long")
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


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> None:
    """Reject keyboards Telegram would reject; ``inline_only`` for edits and inline results."""
    if not isinstance(markup, dict):
        raise bad(_BAD_MARKUP)
    if "inline_keyboard" in markup:
        if not _is_rows(markup["inline_keyboard"]):
            raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        for row in markup["inline_keyboard"]:
            for button in row:
                _check_inline_button(button)
        return
    if inline_only:
        raise bad(_BAD_MARKUP)
    if "keyboard" in markup:
        if not _is_rows(markup["keyboard"]):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in markup["keyboard"]:
            for button in row:
                if not isinstance(button, str | dict) or (
                    isinstance(button, dict) and not isinstance(button.get("text"), str)
                ):
                    raise bad('can\'t parse keyboard button: Field "text" must be of type String')
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise bad(_BAD_MARKUP)


def _check_inline_button(button: Any) -> None:
    def fail(reason: str) -> ApiError:
        return bad(f"can't parse inline keyboard button: {reason}")

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
            raise bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme.lower() not in ("http", "https", "tg"):
            raise bad(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
        if parts.scheme.lower() != "tg" and not parts.hostname:
            raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def check_inline_result(result: Any) -> None:
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise bad("can't parse inline query result")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
        raise bad("RESULT_ID_INVALID")
    content = result.get("input_message_content")
    if result["type"] == "article":
        for name, kind, of_type in (
            ("title", str, "String"),
            ("input_message_content", dict, "Object"),
        ):
            if not isinstance(result.get(name), kind):
                raise bad(
                    f'can\'t parse InlineQueryResultArticle: Field "{name}" must be of type '
                    f"{of_type}"
                )
    if isinstance(content, dict) and "message_text" in content:
        message_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
    if "reply_markup" in result:
        check_reply_markup(result["reply_markup"], inline_only=True)
