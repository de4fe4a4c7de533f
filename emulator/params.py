"""Request parameters, decoded from the transport strings PTB sends."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from emulator.validation import bad

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


def decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn transport strings into the JSON values Telegram would read."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if name in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if name == "reply_markup" else name
                    raise bad(f"can't parse {what} JSON object") from None
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
        raise bad(f"wrong parameter {name} in request") from None
