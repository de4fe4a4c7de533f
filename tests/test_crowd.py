"""A crowd under Bot API faults, end to end through the emulator: every question answered
exactly once and in order within its chat, though a share of the Bot API calls fail; then the
crowd presses "More" (some twice in a row): every press answered once, every page sent once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from emulated import emulator_settings

from bot.app import build_application, polling
from bot.handlers.errors import SORRY
from corpus.models import Article
from emulator import BotApiEmulator
from index import NewsIndex

ADMIN = 900
PRIVATE = list(range(1_000, 1_030))  # 30 private chats
GROUPS = list(range(-100_500, -100_505, -1))  # 5 groups
DOUBLE_TAPS = PRIVATE[:5] + GROUPS[:1]  # these press the same More button twice in a row
QUESTIONS = [
    "Where did Turkey and Israel hold their talks?",
    "why are turkey and israel talking",
    "Turkey Israel Syria de-escalation",
    "what worries Israel about Turkish bases in Syria",
]
SENDS = ["sendMessage", "answerInlineQuery", "answerCallbackQuery", "sendChatAction"]
# A second report on the seed article's story: every answer (one article a page) has a More.
BAKU = Article(
    title="Turkish and Israeli officials meet in Baku to avoid clashes in Syria",
    body=(
        "Turkish and Israeli military officials held technical talks in Baku, Azerbaijan, on "
        "Wednesday to set up a de-escalation channel for Syria. Azerbaijan hosted the meeting "
        "at the request of both governments, diplomats said. Israel is worried that Turkish "
        "bases in Syria could limit its air force, officials said. The two delegations agreed "
        "to meet again after consulting their defence ministries."
    ),
    source="Reuters",
    url="https://www.reuters.com/world/turkey-israel-baku",
    published_at=datetime(2025, 4, 9, 15, 0, tzinfo=UTC),
)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="CrowdTestBot") as emulator:
        for chat in PRIVATE:
            emulator.add_chat(chat)
        for chat in GROUPS:
            emulator.add_chat(chat, "supergroup", title=f"Group {chat}")
        yield emulator


def sent(emu: BotApiEmulator) -> int:
    return sum(1 for c in emu.calls if c.method == "sendMessage" and c.ok)


async def settled(emu: BotApiEmulator, done: Callable[[], bool], timeout: float = 90.0) -> None:
    """Until `done()` and no message was sent for two seconds (a duplicate would show)."""
    deadline = time.monotonic() + timeout
    seen, quiet = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sent(emu)
        if count != seen:
            seen, quiet = count, time.monotonic()
        elif done() and time.monotonic() - quiet > 2.0:
            return
        await asyncio.sleep(0.1)


async def test_a_crowd_under_bot_api_faults_gets_every_answer_once_and_in_order(
    emu: BotApiEmulator, seeded_index: NewsIndex, seed_article: Article
) -> None:
    seeded_index.ingest([BAKU])
    emu.inject_faults(SENDS, seed=7, too_many=0.2, server_error=0.05, slow=0.02, reset=0.02)
    settings = emulator_settings(
        emu, seeded_index, ADMIN, answer_articles=1, user_questions_per_minute=0
    )
    asked: dict[int, list[int]] = {}
    first_question: dict[int, str] = {}
    inline: list[str] = []
    presses: list[str] = []  # callback query ids
    app = build_application(settings, seeded_index)
    async with polling(app):
        for round_ in range(len(QUESTIONS)):
            for chat in PRIVATE:
                first_question.setdefault(chat, QUESTIONS[(chat + round_) % 4])
                message = emu.send_user_message(chat, QUESTIONS[(chat + round_) % 4])
                asked.setdefault(chat, []).append(message["message_id"])
            for chat in GROUPS:
                first_question.setdefault(chat, QUESTIONS[round_])
                message = emu.send_user_message(chat, f"/ask {QUESTIONS[round_]}")
                asked.setdefault(chat, []).append(message["message_id"])
            inline.append(emu.send_inline_query(PRIVATE[round_], QUESTIONS[round_]))
        total = sum(len(ids) for ids in asked.values())
        await settled(emu, lambda: sent(emu) >= total)
        answers = {chat: emu.messages(chat) for chat in asked}

        # "More" under each chat's first answer, its answers failing as above and often slow:
        # the client gives up on those, and its repeat is refused (a query is answered once)
        emu.inject_faults(
            ["answerCallbackQuery"], seed=3, too_many=0.1, server_error=0.05, slow=0.15, reset=0.02
        )
        for chat, messages in answers.items():
            [button] = messages[0].buttons
            for _ in range(2 if chat in DOUBLE_TAPS else 1):
                presses.append(
                    emu.press_button(chat, messages[0].message_id, button["callback_data"])
                )
        await settled(
            emu,
            lambda: set(presses) <= set(emu.callback_answers) and sent(emu) >= total + len(answers),
        )
    assert emu.fault_counts["429"] and emu.fault_counts["5xx"] and emu.fault_counts["reset"]
    refused = [c for c in emu.calls if c.method == "answerCallbackQuery" and c.status == 400]
    assert refused, "no press had its slow answer repeated (the faults are seeded: always one)"
    for chat, ids in asked.items():
        replies = [m.reply_to_message_id for m in answers[chat]]
        counts = Counter(replies)
        assert set(counts) == set(ids), f"chat {chat}: unanswered {set(ids) - set(counts)}"
        assert all(n == 1 for n in counts.values()), f"chat {chat}: sent twice {counts}"
        assert replies == ids, f"chat {chat}: answers out of order"
    assert all(emu.inline_answers.get(query_id) for query_id in inline)

    answered = Counter(
        c.params["callback_query_id"]
        for c in emu.calls
        if c.method == "answerCallbackQuery" and c.ok
    )
    assert answered == Counter(presses), "a press answered twice, or never"
    titles = {seed_article.title, BAKU.title}
    for chat, messages in answers.items():
        before = {m.message_id for m in messages}
        pages = [m for m in emu.messages(chat) if m.message_id not in before]
        assert len(pages) == 1, f"chat {chat}: {len(pages)} pages for one More button"
        assert pages[0].plain.startswith(f"Report 2 on “{first_question[chat]}”")
        [shown] = [title for title in titles if title in messages[0].plain]
        [other] = titles - {shown}
        assert other in pages[0].plain, f"chat {chat}: the second page repeats the first"
        assert not [m for m in emu.messages(chat) if m.plain == SORRY]
