"""The table of Bot API methods the emulator implements, filled by the ``@api`` decorator.

Method handlers live in the mixins (messages, updates, queries...); registering them by name
here lets the server dispatch a request without knowing which mixin implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Handler = Callable[..., Any]  # (emulator, decoded params) -> result, or an awaitable of it
_H = TypeVar("_H", bound=Handler)

# lower-cased name -> (Telegram's spelling, handler)
METHODS: dict[str, tuple[str, Handler]] = {}


def api(name: str) -> Callable[[_H], _H]:
    """Register a Bot API method; lookups are case-insensitive, as in Telegram."""

    def register(handler: _H) -> _H:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def canonical(method: str) -> str:
    """Telegram's spelling of ``method``; ValueError if the emulator does not implement it."""
    entry = METHODS.get(method.lower())
    if entry is None:
        raise ValueError(f"the emulator does not implement {method!r}")
    return entry[0]
