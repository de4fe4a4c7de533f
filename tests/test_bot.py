"""The Telegram bot end to end: the real application and index against the Bot API emulator.

Every test talks to `build_application(...)` over real HTTP through `emulator`, with the real
embedding model and a real index in a temporary folder, the way Telegram users would.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulated import emulator_settings
from telegram.ext import Application, CommandHandler

from bot.app import build_application, polling, webhook_options
from bot.handlers import common
from bot.handlers.access import ADMINS_ONLY, PRIVATE_BOT
from bot.handlers.ask import EXPIRED
from bot.handlers.errors import SORRY
from bot.logs import RedactingFilter, install_redaction, secret_parts
from bot.render import render_answer
from bot.retries import ATTEMPTS
from cli.chat import run_chat
from cli.main import main
from corpus.loaders import load_path, seed_path
from corpus.models import Article
from emulator import BotApiEmulator, ChatMessage, html_to_plain, utf16_len
from index import Answer, NewsIndex
from index.embedder import Embedder
from index.question_encoder import OnnxQuestionEncoder
from services.paths import QUESTIONS_FILE
from services.questions import KEEP_SECONDS, QuestionStore
from services.settings import Settings

BOT_NAME = "NewsTestBot"
USER = 4242  # a private chat's id is its user's id
OTHER_USER = 4343
ADMIN = 77
GROUP = -100123
FORUM = -1001000000002
QUESTION = "Where did Turkey and Israel hold their talks?"
GLACIER_QUESTION = "What did the glacier monitoring stations measure?"
COPPER_QUESTION = "Why did copper futures surge in Shanghai?"
REUTERS_URL = "https://www.reuters.com/world/middle-east/turkey-israel-talks-baku-2025-04-09/"

VALLEYS = (
    "Aletsch",
    "Rhone",
    "Gorner",
    "Morteratsch",
    "Pasterze",
    "Hintereis",
    "Mer de Glace",
    "Argentiere",
    "Tschierva",
    "Forni",
    "Lys",
    "Trift",
)


# --------------------------------------------------------------------------- the news


def glacier_article(number: int, valley: str) -> Article:
    """Long sentences from one outlet (never merged as "same story"): long answers, many pages."""
    sentences = [
        f"The glacier monitoring station above the {valley} valley measured how fast the ice "
        f"retreated this summer, and its instruments recorded a loss of {number + 3} metres of "
        "thickness at the tongue, a figure the station's scientists described as the largest "
        "since their measurements began decades ago, with meltwater channels carving deep blue "
        "canyons through the surface and the snow line climbing far above its usual altitude "
        "for the whole of August and most of September as well.",
        f"Researchers at the {valley} station said the glacier monitoring data, gathered by "
        "automatic cameras, stakes drilled into the ice and a small weather mast powered by solar "
        f"panels, showed the melt season starting {number + 2} weeks earlier than the long-term "
        "average, which they linked to a warm spring, thin winter snow cover and dust from the "
        "Sahara that darkened the surface and made it absorb more sunlight than clean snow.",
        f"Local guides in the {valley} area told the station team that paths across the glacier "
        "had become more dangerous, with crevasses opening where none had been mapped before, "
        "rockfall from newly exposed slopes and a lake of meltwater growing behind a moraine dam, "
        f"so the regional authorities agreed to fund {number + 1} additional sensors to warn "
        "villages downstream should the dam ever fail during a storm.",
    ]
    return Article(
        title=f"{valley} glacier station logs another summer of retreat",
        body=" ".join(sentences),
        source="Alpine Monitor",
        url=f"https://alpine-monitor.example/stations/{number}",
        published_at=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=number),
    )


def bot_articles() -> list[Article]:
    reuters = Article(
        title="Turkish and Israeli officials meet in Baku to avoid clashes in Syria",
        body=(
            "Turkish and Israeli military officials held technical talks in Baku, Azerbaijan, "
            "on Wednesday to set up a de-escalation channel for Syria. Azerbaijan hosted the "
            "meeting at the request of both governments, diplomats said. The two delegations "
            "agreed to meet again after consulting their defence ministries."
        ),
        source="Reuters",
        url=REUTERS_URL,
        published_at=datetime(2025, 4, 9, 15, 0, tzinfo=UTC),
    )
    hostile = Article(
        title="Markets <script>alert(1)</script> & bonds <b>rally",
        body=(
            "Copper futures surged in Shanghai after smelters cut output & traders <b>bought</b> "
            "ahead of new stimulus. Analysts said copper futures could keep rising in Shanghai "
            "while inventories stay low."
        ),
        source="A&B <News>",
        url="https://markets.example/copper?a=1&b=2",
        published_at=datetime(2025, 4, 2, tzinfo=UTC),
    )
    return [reuters, hostile, *(glacier_article(n, v) for n, v in enumerate(VALLEYS))]


def make_index(
    data_dir: Path, embedder: Embedder, questions: OnnxQuestionEncoder, articles: list[Article]
) -> NewsIndex:
    index = NewsIndex(data_dir, create=True, embedder=embedder, questions=questions)
    seed = load_path(seed_path()).articles
    index.ingest([*seed, *articles])
    return index


@pytest.fixture(scope="module")
def news(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, questions: OnnxQuestionEncoder
) -> Iterator[NewsIndex]:
    """The shared index: the bundled seed article plus the articles above."""
    data_dir = tmp_path_factory.mktemp("bot") / "data"
    index = make_index(data_dir, embedder, questions, bot_articles())
    yield index
    index.close()


@pytest.fixture
def seed_index(
    tmp_path: Path, embedder: Embedder, questions: OnnxQuestionEncoder
) -> Iterator[NewsIndex]:
    """An index of its own (the seed article only), for tests that change or break it."""
    index = make_index(tmp_path / "data", embedder, questions, [])
    yield index
    index.close()


# --------------------------------------------------------------------------- the bot


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username=BOT_NAME) as emulator:
        emulator.add_chat(USER)
        emulator.add_chat(OTHER_USER)
        emulator.add_chat(GROUP, "supergroup", title="News fans")
        emulator.add_chat(FORUM, "supergroup", title="Forum", is_forum=True)
        yield emulator


def make_settings(emu: BotApiEmulator, index: NewsIndex, **overrides: Any) -> Settings:
    return emulator_settings(emu, index, ADMIN, **({"answer_articles": 3} | overrides))


@contextlib.asynccontextmanager
async def running_bot(
    emu: BotApiEmulator, index: NewsIndex, **overrides: Any
) -> AsyncIterator[Application]:
    """The application as `newsbot serve` runs it, long polling the emulator."""
    app = build_application(make_settings(emu, index, **overrides), index)
    async with polling(app):
        yield app


@pytest.fixture
async def bot(emu: BotApiEmulator, news: NewsIndex) -> AsyncIterator[Application]:
    async with running_bot(emu, news) as app:
        yield app


def expected_answer(index: NewsIndex, question: str, page: int, start: int = 1) -> list[str]:
    """The messages the bot must send for a page of an answer (the index is deterministic)."""
    answer = index.answer(question, page + start)
    citations = answer.citations[start - 1 : start - 1 + page]
    return render_answer(Answer(question, citations), start=start)


def sent_calls(emu: BotApiEmulator, method: str = "sendMessage") -> list[dict[str, Any]]:
    return [call.params for call in emu.calls if call.method == method and call.ok]


async def ask(
    emu: BotApiEmulator, chat_id: int, text: str, count: int = 1, **kwargs: Any
) -> tuple[dict[str, Any], list[ChatMessage]]:
    """A user writes `text`; returns their message and the bot's `count` replies."""
    asked = emu.send_user_message(chat_id, text, **kwargs)
    return asked, await emu.wait_for_messages(chat_id, count)


@pytest.fixture(autouse=True)
def typing_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "typing…" at once, as for a slow search: these tests read it as a sign of work begun."""
    monkeypatch.setattr(common, "TYPING_AFTER", 0.0)


# --------------------------------------------------------------------------- private chats


async def test_private_question_gets_a_cited_answer(
    bot: Application, emu: BotApiEmulator, news: NewsIndex
) -> None:
    asked, [reply] = await ask(emu, USER, QUESTION)
    assert "Azerbaijan" in reply.plain
    assert f'<a href="{REUTERS_URL}">Reuters</a>' in reply.text
    assert "Reuters, 9 Apr 2025" in reply.plain
    assert "Turkey and Israel negotiate to avert military clash in Syria" in reply.plain
    assert reply.text == expected_answer(news, QUESTION, 3)[0]
    assert reply.reply_to_message_id == asked["message_id"]
    [params] = sent_calls(emu)
    assert params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}
    # "typing…" went out while searching, before the answer
    assert (USER, "typing") in emu.chat_actions
    methods = [c.method for c in emu.calls if c.method in ("sendChatAction", "sendMessage")]
    assert methods == ["sendChatAction", "sendMessage"]
    assert emu.errors == []


async def test_a_misspelled_question_is_answered_and_says_what_it_read(
    bot: Application, emu: BotApiEmulator
) -> None:
    _, [reply] = await ask(emu, USER, "Where did Turkey and Israel hold their tlaks?")
    assert "Read “tlaks” as “talks”." in reply.plain
    assert "Azerbaijan" in reply.plain and "Reuters, 9 Apr 2025" in reply.plain
    _, [asked_right] = await ask(emu, USER, QUESTION)
    assert "Read “" not in asked_right.plain
    assert emu.errors == []


async def test_a_quick_answer_sends_no_typing_action(
    bot: Application, emu: BotApiEmulator, news: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "TYPING_AFTER", 30.0)  # far longer than any answer here
    _, [reply] = await ask(emu, USER, QUESTION)
    assert "Azerbaijan" in reply.plain
    assert [c.method for c in emu.calls if c.method == "sendChatAction"] == []


async def test_start_help_and_bot_profile(
    bot: Application, emu: BotApiEmulator, news: NewsIndex
) -> None:
    _, [welcome] = await ask(emu, USER, "/start")
    articles = news.stats().articles
    assert f"I know {articles} articles from 3 outlets" in welcome.plain
    assert "published 1 Mar 2025 – 10 Apr 2025" in welcome.plain
    # the suggestions are articles the index holds, each one it finds when asked
    suggested = welcome.plain.split("Try asking about")[1].split("How to ask")[0]
    titles = [line.strip("• ").strip() for line in suggested.splitlines() if line.strip()]
    assert len(titles) >= 2
    for title in titles:
        assert news.answer(title, top=1).citations[0].title == title
    assert "/ask" in welcome.plain
    _, [usage] = await ask(emu, USER, "/help")
    assert f"@{BOT_NAME}" in usage.plain and "/latest Apple" in usage.plain
    assert "/stats" not in usage.plain  # not an admin
    _, [unknown] = await ask(emu, USER, "/nonsense")
    assert "/help" in unknown.plain
    # post_init: the command menu and the profile texts
    commands = emu.commands['{"type": "default"}', ""]
    assert {c["command"] for c in commands} == {
        "ask", "timeline", "latest", "sources", "help", "digest", "subscribe", "subscriptions",
        "unsubscribe",
    }  # fmt: skip
    assert "cited excerpts" in emu.descriptions["description", ""]
    assert emu.errors == []


async def test_help_covers_every_command_the_bot_answers(
    bot: Application, emu: BotApiEmulator
) -> None:
    """Derived from the handlers: a new command cannot be left out of /help."""
    registered = {
        command
        for group in bot.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    emu.add_chat(ADMIN)
    _, [admin_help] = await ask(emu, ADMIN, "/help", user_id=ADMIN)
    shown = set(re.findall(r"^/(\w+) — ", admin_help.plain, flags=re.MULTILINE))
    assert registered <= shown, registered - shown
    assert all("e.g. " in line for line in admin_help.plain.splitlines() if line[:1] == "/")
    _, [user_help] = await ask(emu, USER, "/help")
    assert "/stats" not in user_help.plain and "/addfeed" not in user_help.plain


async def test_sources_latest_and_nothing_relevant(bot: Application, emu: BotApiEmulator) -> None:
    _, [sources] = await ask(emu, USER, "/sources")
    assert "Alpine Monitor — 12 articles" in sources.plain
    assert "Reuters — 1 article, latest 9 Apr 2025" in sources.plain
    _, [latest] = await ask(emu, USER, "/latest")
    assert latest.plain.startswith("Latest reports")
    assert latest.plain.index("Turkey and Israel negotiate") < latest.plain.index("glacier")
    _, [on_topic] = await ask(emu, USER, "/latest copper futures")
    assert "Latest reports on “copper futures”" in on_topic.plain
    assert "<script>" in on_topic.plain and "glacier" not in on_topic.plain
    # no topic: the newest reporting, one article per outlet, said so above it
    _, [news_now] = await ask(emu, USER, "any news?")
    assert "\nThe newest reporting I have:\n" in news_now.plain
    assert "Turkey and Israel negotiate" in news_now.plain
    _, [hello] = await ask(emu, USER, "hi")
    assert "Ask me about the news" in hello.plain
    _, [nothing] = await ask(emu, USER, "What is the best recipe for sourdough bread?")
    assert "I found no relevant reporting" in nothing.plain and "/latest" in nothing.plain
    assert nothing.buttons == []
    assert emu.errors == []


async def test_hostile_title_renders_as_text(bot: Application, emu: BotApiEmulator) -> None:
    _, [reply] = await ask(emu, USER, COPPER_QUESTION)
    assert "Markets <script>alert(1)</script> & bonds <b>rally" in reply.plain
    assert "A&B <News>" in reply.plain
    assert "&lt;script&gt;" in reply.text
    assert emu.errors == []


async def test_a_long_answer_arrives_as_several_valid_messages(
    emu: BotApiEmulator, news: NewsIndex
) -> None:
    expected = expected_answer(news, GLACIER_QUESTION, 10)
    assert len(expected) >= 2
    async with running_bot(emu, news, answer_articles=10):
        asked, replies = await ask(emu, USER, GLACIER_QUESTION, count=len(expected))
    assert [r.text for r in replies] == expected
    assert sum(len(r.plain) for r in replies) >= 5000
    assert all(utf16_len(r.plain) <= 4096 for r in replies)
    assert [r.reply_to_message_id for r in replies] == [asked["message_id"]] + [None] * (
        len(replies) - 1
    )
    assert "10." in replies[-1].plain
    assert emu.errors == []


# --------------------------------------------------------------------------- groups


async def test_group_questions_reply_to_the_asker(bot: Application, emu: BotApiEmulator) -> None:
    for text in (f"/ask {QUESTION}", f"/ask@{BOT_NAME} {QUESTION}", f"@{BOT_NAME} {QUESTION}"):
        asked, [reply] = await ask(emu, GROUP, text, user_id=OTHER_USER)
        assert "Azerbaijan" in reply.plain, text
        assert f"“{QUESTION}”" in reply.plain, text  # the mention is not part of the question
        assert reply.reply_to_message_id == asked["message_id"], text
    asked, [reply] = await ask(
        emu, GROUP, "And who hosted them?", reply_to_message_id=reply.message_id
    )
    assert reply.reply_to_message_id == asked["message_id"]
    assert "who hosted them" in reply.plain

    asked, [usage] = await ask(emu, GROUP, "/ask")
    assert "/ask Where did" in usage.plain and usage.reply_to_message_id == asked["message_id"]
    assert emu.errors == []


async def test_group_chatter_gets_no_answer(bot: Application, emu: BotApiEmulator) -> None:
    emu.set_admins(GROUP, [emu.bot_id])  # as an admin the bot sees every message
    since = emu.mark()
    emu.send_user_message(GROUP, "Where did Turkey and Israel meet? No idea, honestly.")
    emu.send_user_message(GROUP, f"/ask@OtherBot {QUESTION}")
    asked, _ = await ask(emu, GROUP, f"/ask {QUESTION}")
    await asyncio.sleep(0.2)
    assert [m.reply_to_message_id for m in emu.messages(GROUP)] == [asked["message_id"]]
    assert len([u for u in emu.updates if "message" in u]) == 3  # all three were delivered
    assert [c.params["chat_id"] for c in emu.calls[since:] if c.method == "sendChatAction"] == [
        GROUP
    ]
    assert emu.errors == []


async def test_forum_topic_answer_stays_in_the_topic(bot: Application, emu: BotApiEmulator) -> None:
    asked, [reply] = await ask(emu, FORUM, f"/ask {QUESTION}", message_thread_id=5)
    assert reply.message_thread_id == 5
    assert reply.reply_to_message_id == asked["message_id"]
    for _ in range(50):  # the "typing" request may still be in flight when the reply lands
        if sent_calls(emu, "sendChatAction"):
            break
        await asyncio.sleep(0.05)
    [action] = sent_calls(emu, "sendChatAction")
    assert action["message_thread_id"] == 5
    assert emu.errors == []


# --------------------------------------------------------------------------- inline mode


async def test_inline_query_lists_cited_excerpts(bot: Application, emu: BotApiEmulator) -> None:
    query_id = emu.send_inline_query(USER, QUESTION)
    answer = await emu.wait_for_inline_answer(query_id)
    results = answer["results"]
    assert 1 <= len(results) <= 10
    ids = [r["id"] for r in results]
    assert len(set(ids)) == len(ids) and all(len(i.encode()) <= 64 for i in ids)
    assert answer["cache_time"] <= 60
    first = results[0]
    assert first["type"] == "article" and first["title"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "Azerbaijan" in html_to_plain(content["message_text"])
    emu.choose_inline_result(query_id, first["id"])

    empty_id = emu.send_inline_query(USER, "")
    empty = await emu.wait_for_inline_answer(empty_id)
    assert empty["results"] == [] and empty["button"]["text"]
    assert emu.errors == []


async def test_inline_keywords_find_the_article(bot: Application, emu: BotApiEmulator) -> None:
    """Inline queries are mostly keywords: capitalised words side by side are not one name."""
    query_id = emu.send_inline_query(USER, "Turkey Israel talks Azerbaijan")
    results = (await emu.wait_for_inline_answer(query_id))["results"]
    titles = [r["title"] for r in results]
    assert any("Turkey and Israel" in t or "Turkish and Israeli" in t for t in titles)
    assert emu.errors == []


async def test_timeline_lists_a_story_in_date_order(bot: Application, emu: BotApiEmulator) -> None:
    _, [timeline] = await ask(emu, USER, "/timeline glacier retreat")
    assert timeline.plain.startswith("Timeline of “glacier retreat”")
    days = re.findall(r"^(\d{1,2} \w{3} \d{4}) · ", timeline.plain, flags=re.MULTILINE)
    assert len(days) >= 3
    dates = [datetime.strptime(d, "%d %b %Y") for d in days]
    assert dates == sorted(dates)
    assert "Alpine Monitor" in timeline.plain and "<a href=" in timeline.text
    _, [usage] = await ask(emu, USER, "/timeline")
    assert "/timeline" in usage.plain


# --------------------------------------------------------------------------- "More"


async def test_more_pages_continue_numbering(emu: BotApiEmulator, news: NewsIndex) -> None:
    async with running_bot(emu, news, answer_articles=2):
        _, [first] = await ask(emu, USER, GLACIER_QUESTION)
        assert first.text == expected_answer(news, GLACIER_QUESTION, 2)[0]
        assert "1." in first.plain and "2." in first.plain and "3." not in first.plain
        [button] = first.buttons
        assert button["text"] == "More" and len(button["callback_data"].encode()) <= 64

        query_id = emu.press_button(USER, first.message_id, button["callback_data"])
        [second] = await emu.wait_for_messages(USER)
        assert (await emu.wait_for_callback_answer(query_id)).get("text") is None
        assert second.plain.startswith(f"Reports 3–4 on “{GLACIER_QUESTION}”")
        assert "3." in second.plain and "4." in second.plain
        assert first.buttons == []  # the pressed button is gone; the new page has its own
        shown = {line for line in first.plain.splitlines() if "glacier station" in line}
        assert not shown & {line for line in second.plain.splitlines()}

        emu.press_button(USER, second.message_id, second.buttons[0]["callback_data"])
        [third] = await emu.wait_for_messages(USER)
        assert third.plain.startswith("Reports 5–6 on")
    assert emu.errors == []


async def test_a_more_button_pages_on_after_a_restart_and_expires_after_a_week(
    emu: BotApiEmulator, news: NewsIndex
) -> None:
    async with running_bot(emu, news, answer_articles=2):
        _, [answer] = await ask(emu, USER, GLACIER_QUESTION)
        _, [older] = await ask(emu, OTHER_USER, GLACIER_QUESTION)
    async with running_bot(emu, news, answer_articles=2):  # a new process: the store is on disk
        query_id = emu.press_button(USER, answer.message_id, answer.buttons[0]["callback_data"])
        [second] = await emu.wait_for_messages(USER)
        assert (await emu.wait_for_callback_answer(query_id)).get("text") is None
        assert second.plain.startswith(f"Reports 3–4 on “{GLACIER_QUESTION}”")
        store = QuestionStore(news.data_dir / QUESTIONS_FILE)
        assert store.prune(now=time.time() + KEEP_SECONDS + 1) >= 2  # a week later
        store.close()
        query_id = emu.press_button(OTHER_USER, older.message_id, older.buttons[0]["callback_data"])
        assert (await emu.wait_for_callback_answer(query_id))["text"] == EXPIRED
    assert len(emu.messages(USER)) == 2 and len(emu.messages(OTHER_USER)) == 1
    assert emu.errors == []


# --------------------------------------------------------------------------- access


async def test_chats_outside_allowed_chat_ids_are_refused(
    emu: BotApiEmulator, news: NewsIndex
) -> None:
    async with running_bot(emu, news, allowed_chat_ids=[USER, GROUP]):
        _, [refusal] = await ask(emu, OTHER_USER, QUESTION)
        assert refusal.plain == PRIVATE_BOT
        _, [answer] = await ask(emu, USER, QUESTION)
        assert "Azerbaijan" in answer.plain
        query_id = emu.send_inline_query(OTHER_USER, QUESTION)
        assert (await emu.wait_for_inline_answer(query_id))["results"] == []
        emu.add_chat(-100999, "supergroup")
        _, [group_refusal] = await ask(emu, -100999, f"/ask {QUESTION}")
        assert group_refusal.plain == PRIVATE_BOT
        # Even when the refusal cannot be sent (502 on every retry), the question is not
        # answered.
        for _ in range(ATTEMPTS):
            emu.fail_next("sendMessage", 502)
        since = len(emu.calls)
        emu.send_user_message(OTHER_USER, QUESTION)
        for _ in range(100):  # retries back off 0.5 + 1 + 2 s
            failed = [c for c in emu.calls[since:] if c.method == "sendMessage"]
            if len(failed) >= ATTEMPTS:
                break
            await asyncio.sleep(0.1)
        assert [c.status for c in failed] == [502] * ATTEMPTS
        await asyncio.sleep(0.3)
    assert len(emu.messages(OTHER_USER)) == 1 and len(emu.messages(-100999)) == 1
    assert (OTHER_USER, "typing") not in emu.chat_actions
    assert emu.errors == []


async def test_stats_and_reload_are_for_admins(
    emu: BotApiEmulator, seed_index: NewsIndex, embedder: Embedder
) -> None:
    async with running_bot(emu, seed_index, admin_user_ids=[ADMIN]):
        _, [refusal] = await ask(emu, GROUP, "/stats", user_id=OTHER_USER)
        assert refusal.plain == ADMINS_ONLY
        _, [stats] = await ask(emu, GROUP, "/stats", user_id=ADMIN)
        assert "Articles: 1 · chunks: 3" in stats.plain and "all-MiniLM-L6-v2" in stats.plain
        _, [same] = await ask(emu, GROUP, "/reload", user_id=ADMIN)
        assert same.plain.startswith("Nothing new")

        # `newsbot ingest` in another process writes a new generation ...
        other = NewsIndex(seed_index.data_dir, embedder=embedder)
        other.ingest(bot_articles()[:1])
        other.close()
        _, [refusal] = await ask(emu, GROUP, "/reload", user_id=OTHER_USER)
        assert refusal.plain == ADMINS_ONLY
        _, [reloaded] = await ask(emu, GROUP, "/reload", user_id=ADMIN)  # ... picked up here
        assert reloaded.plain.startswith("Reloaded: the index now holds 2 articles")
        _, [answer] = await ask(emu, USER, QUESTION)
        assert "Reuters" in answer.plain
    assert emu.errors == []


# --------------------------------------------------------------------------- failures, logs


async def test_a_failing_handler_tells_the_user(
    emu: BotApiEmulator, seed_index: NewsIndex, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(emu, seed_index):
        shutil.rmtree(seed_index.data_dir)  # the index vanishes under the running bot
        _, [reply] = await ask(emu, USER, "/start")
    assert reply.plain == SORRY
    [record] = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert emu.errors == []


async def test_the_token_never_reaches_the_logs(
    bot: Application, emu: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # worst case: every request URL is logged
    install_redaction(secret_parts(emu.token), [caplog.handler])
    await ask(emu, USER, QUESTION)
    await ask(emu, GROUP, f"/ask@{BOT_NAME} {QUESTION}")
    await ask(emu, USER, "/stats")
    query_id = emu.send_inline_query(USER, QUESTION)
    await emu.wait_for_inline_answer(query_id)
    _, secret = emu.token.split(":")
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # URLs were logged...
    assert emu.token not in caplog.text and secret not in caplog.text  # ... without the token
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert emu.errors == []


def test_the_redacting_filter_covers_arguments_and_tracebacks() -> None:
    token = "987654:SECRETsecretSECRET"
    redacting = RedactingFilter(secret_parts(token))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET %s", (f"/bot{token}/x",), None)
    try:
        raise RuntimeError(f"failed on https://api.telegram.org/bot{token}/getMe")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert redacting.filter(record)
    text = logging.Formatter().format(record)
    assert "SECRETsecretSECRET" not in text and "/bot[REDACTED]/x" in text


# --------------------------------------------------------------------------- webhook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_refuses_a_wrong_secret(emu: BotApiEmulator, news: NewsIndex) -> None:
    port = free_port()
    settings = make_settings(
        emu,
        news,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-Token_1",
    )
    app = build_application(settings, news)
    async with app:
        await app.start()
        await app.updater.start_webhook(**webhook_options(settings))
        try:
            _, [reply] = await ask(emu, USER, QUESTION)
            update = emu.updates[-1]
            delivery = await emu.wait_for_delivery(update["update_id"])
            assert (delivery.status, delivery.secret_token) == (200, "s3cret-Token_1")
            assert "Azerbaijan" in reply.plain

            assert (await emu.post_to_webhook(update, secret_token="wrong")).status == 403
            assert (await emu.post_to_webhook(update, secret_token=None)).status == 403
            await asyncio.sleep(0.2)
            assert len(emu.messages(USER)) == 1  # refused deliveries were not handled
        finally:
            await app.updater.stop()
            await app.stop()
    assert emu.errors == []


# --------------------------------------------------------------------------- CLI, console chat


async def test_console_chat_answers_questions_and_commands(news: NewsIndex) -> None:
    settings = Settings(_env_file=None, data_dir=news.data_dir, allowed_chat_ids=[1])
    stdin = io.StringIO(f"{QUESTION}\n\n/sources\n/stats\n")
    stdout = io.StringIO()
    await run_chat(settings, news, stdin, stdout)
    out = stdout.getvalue()
    assert out.startswith(f"you> {QUESTION}\nbot> 2 reports on “{QUESTION}”")
    assert "Azerbaijan" in out and f"Reuters <{REUTERS_URL}>, 9 Apr 2025" in out  # linked
    assert "Alpine Monitor — 12 articles" in out  # /sources
    assert "Articles: 15" in out  # the console user is an admin
    assert "<b>" not in out and "This bot is private" not in out
    assert out.endswith("you> \n")


async def test_console_chat_pages_with_more_and_numbered_buttons(news: NewsIndex) -> None:
    settings = Settings(
        _env_file=None, data_dir=news.data_dir, allowed_chat_ids=[1], answer_articles=2, feeds=[]
    )
    stdin = io.StringIO(f"more\n{GLACIER_QUESTION}\nmore\n1\n/help\n")
    stdout = io.StringIO()
    await run_chat(settings, news, stdin, stdout)
    out = stdout.getvalue()
    assert "nothing more to show" in out  # "more" before any question is not a search
    assert "[1] More" in out and "type a number, or 'more'" in out
    # "more" and then the number 1 each pressed the newest More button: reports 3-4, then 5-6
    assert "Reports 3–4 on" in out and "Reports 5–6 on" in out
    assert "/timeline" in out and "/stats" in out  # /help, as an admin sees it


def test_serve_without_a_token_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "newsbot chat" in err
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    assert main(["serve", "--webhook"]) == 2
    assert "WEBHOOK_URL" in capsys.readouterr().err
