"""A crowd under Bot API faults, end to end through the emulator: every question answered
exactly once and in order within its chat, though a share of the Bot API calls fail."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from emulated import emulator_settings

from bot.app import build_application, polling
from emulator import BotApiEmulator
from index import NewsIndex

ADMIN = 900
PRIVATE = list(range(1_000, 1_030))  # 30 private chats
GROUPS = list(range(-100_500, -100_505, -1))  # 5 groups
QUESTIONS = [
    "Where did Turkey and Israel hold their talks?",
    "why are turkey and israel talking",
    "Turkey Israel Syria de-escalation",
    "what worries Israel about Turkish bases in Syria",
]
SENDS = ["sendMessage", "answerInlineQuery", "answerCallbackQuery", "sendChatAction"]


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="CrowdTestBot") as emulator:
        for chat in PRIVATE:
            emulator.add_chat(chat)
        for chat in GROUPS:
            emulator.add_chat(chat, "supergroup", title=f"Group {chat}")
        yield emulator


async def settled(emu: BotApiEmulator, expected: int, timeout: float = 90.0) -> None:
    """Until the bot has sent `expected` messages and nothing more came for two seconds."""
    deadline = time.monotonic() + timeout
    seen, quiet = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(1 for c in emu.calls if c.method == "sendMessage" and c.ok)
        if count != seen:
            seen, quiet = count, time.monotonic()
        elif count >= expected and time.monotonic() - quiet > 2.0:
            return
        await asyncio.sleep(0.1)


async def test_a_crowd_under_bot_api_faults_gets_every_answer_once_and_in_order(
    emu: BotApiEmulator, seeded_index: NewsIndex
) -> None:
    emu.inject_faults(SENDS, seed=7, too_many=0.2, server_error=0.05, slow=0.02, reset=0.02)
    settings = emulator_settings(
        emu, seeded_index, ADMIN, answer_articles=1, user_questions_per_minute=0
    )
    asked: dict[int, list[int]] = {}
    inline: list[str] = []
    app = build_application(settings, seeded_index)
    async with polling(app):
        for round_ in range(len(QUESTIONS)):
            for chat in PRIVATE:
                message = emu.send_user_message(chat, QUESTIONS[(chat + round_) % 4])
                asked.setdefault(chat, []).append(message["message_id"])
            for chat in GROUPS:
                message = emu.send_user_message(chat, f"/ask {QUESTIONS[round_]}")
                asked.setdefault(chat, []).append(message["message_id"])
            inline.append(emu.send_inline_query(PRIVATE[round_], QUESTIONS[round_]))
        await settled(emu, sum(len(ids) for ids in asked.values()))
    assert emu.fault_counts["429"] and emu.fault_counts["5xx"] and emu.fault_counts["reset"]
    for chat, ids in asked.items():
        replies = [m.reply_to_message_id for m in emu.messages(chat)]
        counts = Counter(replies)
        assert set(counts) == set(ids), f"chat {chat}: unanswered {set(ids) - set(counts)}"
        assert all(n == 1 for n in counts.values()), f"chat {chat}: sent twice {counts}"
        assert replies == ids, f"chat {chat}: answers out of order"
    assert all(emu.inline_answers.get(query_id) for query_id in inline)
