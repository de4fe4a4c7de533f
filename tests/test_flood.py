"""Flood control per user, end to end through the Bot API emulator: one user asking far too
fast is told once to slow down, and everyone else is answered as usual."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from emulated import emulator_settings

from bot.app import build_application, polling
from bot.handlers.access import SLOW_DOWN
from emulator import BotApiEmulator
from index import NewsIndex
from services.budget import QuestionBudget

FLOODER, OTHER, ADMIN = 501, 502, 503
QUESTION = "Where did Turkey and Israel hold their talks?"
NOTICE = SLOW_DOWN.split("{")[0]


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="FloodTestBot") as emulator:
        for chat in (FLOODER, OTHER, ADMIN):
            emulator.add_chat(chat)
        yield emulator


def replies(emu: BotApiEmulator, chat_id: int) -> list[str]:
    return [
        call.params["text"]
        for call in emu.calls
        if call.method == "sendMessage" and call.ok and call.params.get("chat_id") == chat_id
    ]


async def settle(emu: BotApiEmulator, chat_id: int, seconds: float = 1.5) -> list[str]:
    """The chat's replies once no new one has come for `seconds`."""
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        await asyncio.sleep(0.1)
        now = len(replies(emu, chat_id))
        if now != count:
            count, quiet_since = now, time.monotonic()
    return replies(emu, chat_id)


async def test_a_flooding_user_is_told_once_and_others_are_answered(
    emu: BotApiEmulator, seeded_index: NewsIndex
) -> None:
    settings = emulator_settings(
        emu, seeded_index, ADMIN, user_questions_per_minute=6, user_question_burst=3
    )
    async with polling(build_application(settings, seeded_index)):
        for _ in range(30):
            emu.send_user_message(FLOODER, QUESTION)
        emu.send_user_message(OTHER, QUESTION)
        for _ in range(5):
            emu.send_user_message(ADMIN, QUESTION)
        flooded = await settle(emu, FLOODER)
        other = await settle(emu, OTHER, 0.5)
        admin = await settle(emu, ADMIN, 0.5)
    notices = [text for text in flooded if text.startswith(NOTICE)]
    answers = [text for text in flooded if "Azerbaijan" in text]
    assert len(notices) == 1, flooded
    assert 3 <= len(answers) <= 4  # the burst, and one more if a token came back meanwhile
    assert len(flooded) == len(answers) + 1  # the other 26 questions: no reply at all
    assert len(other) == 1 and "Azerbaijan" in other[0]
    assert len(admin) == 5 and all("Azerbaijan" in text for text in admin)  # admins exempt
    assert emu.errors == []


def test_the_budget_refills_and_warns_at_most_once_a_minute() -> None:
    now = [0.0]
    budget = QuestionBudget(per_minute=60, burst=2, clock=lambda: now[0])
    assert budget.take(1).allowed and budget.take(1).allowed
    first, second = budget.take(1), budget.take(1)
    assert not first.allowed and first.first_refusal and 0 < first.wait <= 1.0
    assert not second.allowed and not second.first_refusal
    assert budget.take(2).allowed  # another user is not affected
    now[0] = 1.0  # one token back
    assert budget.take(1).allowed
    assert not budget.take(1).first_refusal  # refused again, but told only once a minute
    now[0] = 61.0
    assert budget.take(1).allowed and budget.take(1).allowed  # the bucket is full again
    refused = budget.take(1)
    assert not refused.allowed and refused.first_refusal  # a minute on: told again
    assert QuestionBudget(per_minute=0, burst=1).take(1, cost=100).allowed  # 0: no limit
