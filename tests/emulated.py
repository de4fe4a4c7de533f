"""Settings for running the real application against the local Bot API emulator."""

from __future__ import annotations

from typing import Any

from emulator import BotApiEmulator
from index import NewsIndex
from services.settings import Settings


def emulator_settings(
    emu: BotApiEmulator, index: NewsIndex, admin: int, **overrides: Any
) -> Settings:
    """The emulator's token and URL, `admin` as the one admin, no allow-list, and never the
    public default feeds (a test names local ones when it wants feeds); no .env is read."""
    values: dict[str, Any] = {
        "data_dir": index.data_dir,
        "telegram_bot_token": emu.token,
        "telegram_base_url": emu.base_url,
        "allowed_chat_ids": [],
        "admin_user_ids": [admin],
        "feeds": [],
    }
    return Settings(_env_file=None, **(values | overrides))
