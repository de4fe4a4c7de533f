"""What the benchmark scripts share: the percentile they report, and the bot's settings for a
run against the local Bot API emulator. Imported as `measure` (the scripts' own folder is first
on the path when they run)."""

from __future__ import annotations

from typing import Any

from emulator import BotApiEmulator
from index import NewsIndex
from services.settings import Settings


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0 for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0


def emulator_settings(emulator: BotApiEmulator, index: NewsIndex, **overrides: Any) -> Settings:
    """The emulator's token and URL, the index's folder, no feeds (measure the thing named, not
    feed polling); no .env is read."""
    values: dict[str, Any] = {
        "data_dir": index.data_dir,
        "telegram_bot_token": emulator.token,
        "telegram_base_url": emulator.base_url,
        "feeds": [],
    }
    return Settings(_env_file=None, **(values | overrides))
