"""The questions behind "More" buttons: a bounded in-memory store keyed by a short random id.

Callback data holds at most 64 bytes, so the button carries only this key (plus where the next
page starts). After a restart the key is unknown and the button politely expires.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Asked:
    """A question with a "More" button: the article ids shown so far, in order."""

    question: str
    shown: list[str] = field(default_factory=list)
    busy: bool = False  # a page is being fetched; a second press waits its turn


class QuestionStore:
    """The newest `size` questions behind "More" buttons, by short random key (LRU)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[str, Asked] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, asked: Asked) -> str:
        key = secrets.token_urlsafe(6)  # 8 characters
        self._items[key] = asked
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Asked | None:
        asked = self._items.get(key)
        if asked is not None:
            self._items.move_to_end(key)
        return asked
