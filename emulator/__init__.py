"""A local, strict Telegram Bot API server for end-to-end tests and the console chat.

Telegram is unreachable from the test machines, so PTB is pointed at this emulator through
``base_url``. It speaks real HTTP on 127.0.0.1 and answers like the Bot API does, including
its 400/403/409/429 errors, so formatting bugs fail in tests instead of in production.
``newsbot chat`` (bot/chat.py) runs the real bot against it in a terminal.

Deliberate deviations from Telegram (all stricter, to catch bugs):

* an unknown named HTML entity such as ``&nbsp;`` is rejected (Telegram shows it verbatim);
* ``<a>`` without ``href`` is rejected (Telegram silently drops the link);
* an inline keyboard button must carry exactly one action field (Telegram picks the first);
* webhook deliveries that fail are not retried; the update stays pending instead.

Modules: ``entities`` (HTML parsing), ``validation`` and ``params`` (request checks and
decoding), ``state`` (records), ``core`` (shared state), ``control`` and ``inspection`` (the
users' side, for tests), ``messages``/``updates``/``queries``/``bot_info``/``chats`` (the Bot
API methods), ``registry`` (method table) and ``server`` (HTTP, and the assembled class).
"""

from emulator.core import DEFAULT_TOKEN
from emulator.entities import EntityParseError, ParsedText, html_to_plain, parse_html, utf16_len
from emulator.server import BotApiEmulator
from emulator.state import ApiCall, ChatMessage, WebhookDelivery

__all__ = [
    "DEFAULT_TOKEN",
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
