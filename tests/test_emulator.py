"""The Bot API emulator, driven by a real PTB Bot and Application over HTTP.

These tests pin down the strictness the bot's own end-to-end tests rely on: a message Telegram
would reject must be rejected here too, with the same kind of error.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.app import polling
from emulator import BotApiEmulator, EntityParseError, html_to_plain, parse_html
from emulator.balancer import free_port

PRIVATE = 42
GROUP = -1001234567890
MEMBER = 7


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(bot_username="NewsTestBot") as emulator:
        emulator.add_chat(PRIVATE)
        emulator.add_chat(GROUP, "supergroup", title="News fans")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url) as tg_bot:
        yield tg_bot


# --------------------------------------------------------------------------- a tiny real bot


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(
        f"echo: <b>{update.message.text}</b>", parse_mode="HTML", do_quote=True
    )


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text("answer to " + " ".join(context.args or []))


async def on_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("pressed")
    await update.callback_query.edit_message_text("done")


async def on_inline(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    more = InlineKeyboardMarkup.from_button(InlineKeyboardButton("more", callback_data="more"))
    content = InputTextMessageContent("<b>one</b>", parse_mode="HTML")
    await update.inline_query.answer(
        [InlineQueryResultArticle("r1", "One", content, reply_markup=more)]
    )


def build_app(emu: BotApiEmulator) -> Application:
    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    app.add_handler(CommandHandler("ask", ask))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(InlineQueryHandler(on_inline))
    return app


@contextlib.asynccontextmanager
async def polling_app(emu: BotApiEmulator) -> AsyncIterator[Application]:
    async with polling(build_app(emu)) as app:
        yield app


def button_markup(**button: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.from_button(InlineKeyboardButton("press", **button))


# --------------------------------------------------------------------------- basics


async def test_get_me_reports_the_configured_bot(bot: Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert bot.username == "NewsTestBot"
    assert me.is_bot and me.supports_inline_queries and not me.can_read_all_group_messages
    assert emu.calls[-1].method == "getMe" and emu.calls[-1].ok


async def test_wrong_token_unknown_method_and_case_insensitivity(emu: BotApiEmulator) -> None:
    stranger = Bot("999:wrong", base_url=emu.base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()  # calls getMe
    await stranger.shutdown()
    async with Bot(emu.token, base_url=emu.base_url) as tg_bot:
        with pytest.raises(EndPointNotFound):
            await tg_bot.do_api_request("noSuchMethod")
    async with httpx.AsyncClient(base_url=f"{emu.base_url}{emu.token}/") as client:
        denied = await client.get(f"{emu.base_url}999:wrong/getMe")
        assert denied.status_code == 401
        assert denied.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        assert (await client.get("GETME")).json()["result"]["username"] == "NewsTestBot"
        by_query = await client.get("sendMessage", params={"chat_id": PRIVATE, "text": "q"})
        by_json = await client.post("sendmessage", json={"chat_id": PRIVATE, "text": "[1, 2]"})
    assert by_query.json()["result"]["text"] == "q"
    assert by_json.json()["result"]["text"] == "[1, 2]"


async def test_text_that_looks_like_json_stays_text(bot: Bot, emu: BotApiEmulator) -> None:
    # PTB form-encodes strings raw and everything else as JSON: "42" must not become an int.
    for text in ("42", "[1, 2]", '{"a": 1}', "true"):
        message = await bot.send_message(PRIVATE, text)
        assert message.text == text
    assert [m.text for m in emu.messages(PRIVATE)] == ["42", "[1, 2]", '{"a": 1}', "true"]


# --------------------------------------------------------------------------- HTML strictness


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (
            "Hello world <script>alert(1)</script>",
            'Unsupported start tag "script" at byte offset 12',
        ),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("<a>link</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_that_telegram_rejects_is_rejected(
    bot: Bot, emu: BotApiEmulator, html: str, reason: str
) -> None:
    with pytest.raises(EntityParseError, match="^" + re.escape(reason)):
        parse_html(html)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(PRIVATE, html, parse_mode="HTML")
    # PTB strips "Bad Request: " and lower-cases the rest of the description.
    assert caught.value.message == f"Can't parse entities: {reason}".capitalize()
    assert emu.errors[-1].description == f"Bad Request: can't parse entities: {reason}"
    assert emu.messages(PRIVATE) == []


async def test_valid_html_is_parsed_into_text_and_entities(bot: Bot, emu: BotApiEmulator) -> None:
    html = (
        '😀 <b>bold <i>both</i></b> AT&T & co &lt;3 &#128240; <a href="https://x.org/?a=1&amp;b=2">'
        'site</a> <pre><code class="language-python">x = 1</code></pre> '
        '<blockquote expandable>quote</blockquote> <span class="tg-spoiler">s</span>'
    )
    message = await bot.send_message(PRIVATE, html, parse_mode="HTML")
    plain = "😀 bold both AT&T & co <3 📰 site x = 1 quote s"
    assert message.text == plain == html_to_plain(html)
    entities = {(e.type, e.offset, e.length) for e in message.entities}
    assert ("bold", 3, 9) in entities  # the emoji counts as two UTF-16 code units
    assert ("italic", 8, 4) in entities
    assert message.entities[2].url == "https://x.org/?a=1&b=2"
    pre = next(e for e in message.entities if e.type == "pre")
    assert pre.language == "python"
    assert "expandable_blockquote" in {e.type for e in message.entities}
    stored = emu.messages(PRIVATE)[0]
    assert (stored.text, stored.plain, stored.parse_mode) == (html, plain, "HTML")


async def test_length_is_counted_after_parsing_in_utf16(bot: Bot) -> None:
    await bot.send_message(PRIVATE, "x" * 4096)
    await bot.send_message(PRIVATE, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    escaped = await bot.send_message(PRIVATE, "&lt;b&gt;" + "x" * 4093, parse_mode="HTML")
    assert len(escaped.text) == 4096
    for too_long in ("x" * 4097, "😀" * 2049, "&lt;b&gt;" + "x" * 4094):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(PRIVATE, too_long, parse_mode="HTML")
    for empty in (" <b> </b>\n", "<i></i>"):
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(PRIVATE, empty, parse_mode="HTML")


# --------------------------------------------------------------------------- keyboards, inline


async def test_inline_keyboard_validation(bot: Bot) -> None:
    await bot.send_message(PRIVATE, "ok", reply_markup=button_markup(callback_data="a" * 64))
    for bad, reason in [
        (button_markup(callback_data="a" * 65), "Button_data_invalid"),
        (button_markup(callback_data="é" * 33), "Button_data_invalid"),
        (button_markup(url="javascript:alert(1)"), "unsupported url protocol"),
        (
            InlineKeyboardMarkup.from_button(InlineKeyboardButton("text only")),
            "text buttons are unallowed",
        ),
    ]:
        with pytest.raises(BadRequest, match=reason):
            await bot.send_message(PRIVATE, "x", reply_markup=bad)


def article(result_id: str, text: str = "text", **content: str) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        result_id,
        "title",
        InputTextMessageContent(text, **content),  # type: ignore[arg-type]
    )


async def test_answer_inline_query_limits(bot: Bot, emu: BotApiEmulator) -> None:
    query_id = emu.send_inline_query(MEMBER, "news")
    for results, reason in [
        ([article(str(i)) for i in range(51)], "Results_too_much"),
        ([article("1"), article("1")], "Result_id_duplicate"),
        ([article("x" * 65)], "Result_id_invalid"),
        ([article("1", "<b>oops", parse_mode="HTML")], "Can't parse entities"),
        ([article("1", "x" * 4097)], "Message is too long"),
    ]:
        with pytest.raises(BadRequest, match=reason):
            await bot.answer_inline_query(query_id, results)
    await bot.answer_inline_query(query_id, [article(str(i)) for i in range(50)])
    assert len(emu.inline_answers[query_id]["results"]) == 50
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_inline_query(query_id, [article("1")])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123", text="unknown id")


# --------------------------------------------------------------------------- failures, limits


async def test_blocked_chat_injected_429_and_unknown_targets(bot: Bot, emu: BotApiEmulator) -> None:
    emu.block_chat(PRIVATE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PRIVATE, "hi")
    emu.block_chat(PRIVATE, blocked=False)

    emu.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(PRIVATE, "hi")
    assert emu.calls[-1].description == "Too Many Requests: retry after 3"
    await bot.send_message(PRIVATE, "hi")  # only the next call fails

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hi")
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(PRIVATE, "hi", reply_to_message_id=999)
    sent = await bot.send_message(
        PRIVATE, "hi", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert sent.reply_to_message is None


async def test_flood_limits_answer_429_with_retry_after() -> None:
    async with BotApiEmulator(flood_limits=True) as emu:
        emu.add_chat(PRIVATE)
        async with Bot(emu.token, base_url=emu.base_url) as tg_bot:
            for text in ("1", "2", "3"):  # a small burst is allowed
                await tg_bot.send_message(PRIVATE, text)
            with pytest.raises(RetryAfter):
                await tg_bot.send_message(PRIVATE, "4")
        assert emu.flood_rejections == 1


async def test_edit_and_delete_follow_telegram_rules(bot: Bot, emu: BotApiEmulator) -> None:
    keyboard = button_markup(callback_data="again")
    sent = await bot.send_message(PRIVATE, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", PRIVATE, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    await bot.edit_message_text("<b>v1</b>", PRIVATE, sent.message_id, parse_mode="HTML")
    [stored] = emu.messages(PRIVATE)
    assert stored.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert stored.edit_date is not None

    user_message = emu.send_user_message(PRIVATE, "hello")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", PRIVATE, user_message["message_id"])
    await bot.delete_message(PRIVATE, sent.message_id)
    assert emu.messages(PRIVATE) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(PRIVATE, sent.message_id)


async def test_chats_members_commands_and_actions(bot: Bot, emu: BotApiEmulator) -> None:
    emu.set_admins(GROUP, [MEMBER], creator_id=8)
    assert (await bot.get_chat(GROUP)).title == "News fans"
    assert (await bot.get_chat_member(GROUP, MEMBER)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, emu.bot_id)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.status for a in admins] == ["creator", "administrator"]
    with pytest.raises(BadRequest, match="no administrators"):
        await bot.get_chat_administrators(PRIVATE)

    await bot.set_my_commands([("ask", "Ask about the news")])
    assert [c.command for c in await bot.get_my_commands()] == ["ask"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Ask", "capital letters are not allowed")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    await bot.send_chat_action(PRIVATE, "typing")
    assert emu.chat_actions == [(PRIVATE, "typing")]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(PRIVATE, "dancing")


# --------------------------------------------------------------------------- updates


async def test_get_updates_long_polls_and_confirms(bot: Bot, emu: BotApiEmulator) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    emu.send_user_message(PRIVATE, "/start")
    [update] = await waiting
    assert loop.time() - started < 2  # answered on arrival, not at the timeout
    assert update.message.entities[0].type == "bot_command"
    assert await bot.get_updates(offset=update.update_id + 1) == ()

    # A second bot instance polling at the same time ends the first one's long poll. (One Bot
    # cannot do this itself: PTB gives getUpdates its own connection pool of size 1.)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(emu.token, base_url=emu.base_url) as second_instance:
        await second_instance.get_updates()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_group_commands_mentions_and_privacy_mode(emu: BotApiEmulator) -> None:
    message = emu.send_user_message(GROUP, "/ask@NewsTestBot hi", user_id=MEMBER)
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 16}]
    assert message["from"]["id"] == MEMBER and message["chat"]["type"] == "supergroup"
    emu.send_user_message(GROUP, "chatting among ourselves", user_id=MEMBER)
    emu.send_user_message(GROUP, "/ask@OtherBot hi", user_id=MEMBER)
    mention = emu.send_user_message(GROUP, "hey @NewsTestBot", user_id=MEMBER)
    assert mention["entities"] == [{"type": "mention", "offset": 4, "length": 12}]
    # Privacy mode: the bot only gets its command and its mention.
    assert [u["message"]["text"] for u in emu.updates] == ["/ask@NewsTestBot hi", mention["text"]]


async def test_polling_application_end_to_end(emu: BotApiEmulator) -> None:
    async with polling_app(emu) as app:
        user_message = emu.send_user_message(PRIVATE, "hi")
        [reply] = await emu.wait_for_messages(PRIVATE)
        assert (reply.plain, reply.reply_to_message_id) == ("echo: hi", user_message["message_id"])
        assert reply.entities == [{"type": "bold", "offset": 6, "length": 2}]

        emu.send_user_message(GROUP, "/ask@NewsTestBot hi", user_id=MEMBER)
        [answer] = await emu.wait_for_messages(GROUP)
        assert answer.plain == "answer to hi"

        keyboard = button_markup(callback_data="go")
        menu = await app.bot.send_message(PRIVATE, "menu", reply_markup=keyboard)
        query_id = emu.press_button(PRIVATE, menu.message_id, "go")
        assert (await emu.wait_for_callback_answer(query_id))["text"] == "pressed"
        await emu.wait_for_call("editMessageText")
        assert [m.plain for m in emu.messages(PRIVATE)][-1] == "done"

        inline_id = emu.send_inline_query(MEMBER, "news")
        answer_params = await emu.wait_for_inline_answer(inline_id)
        assert [r["id"] for r in answer_params["results"]] == ["r1"]
        chosen = emu.choose_inline_result(inline_id, "r1")
        assert emu.inline_messages[chosen["inline_message_id"]].plain == "one"
        emu.press_inline_button(chosen["inline_message_id"], "more")
        await emu.wait_for_call("editMessageText")
        assert emu.inline_messages[chosen["inline_message_id"]].plain == "done"
    assert emu.errors == []


async def test_webhook_delivery_and_secret_check(emu: BotApiEmulator) -> None:
    port = free_port()
    app = build_app(emu)
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret",
        )
        try:
            info = await app.bot.get_webhook_info()
            assert info.url == f"http://127.0.0.1:{port}/hook"
            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()

            emu.send_user_message(PRIVATE, "via webhook")
            update = emu.updates[-1]
            delivery = await emu.wait_for_delivery(update["update_id"])
            assert (delivery.status, delivery.secret_token) == (200, "s3cret")
            [reply] = await emu.wait_for_messages(PRIVATE)
            assert reply.plain == "echo: via webhook"

            refused = await emu.post_to_webhook(update, secret_token="wrong")
            assert refused.status == 403 and not refused.ok
            assert (await emu.post_to_webhook(update, secret_token=None)).status == 403
        finally:
            await app.updater.stop()
            await app.stop()


async def test_wait_timeout_explains_what_the_bot_did(bot: Bot, emu: BotApiEmulator) -> None:
    emu.send_user_message(PRIVATE, "hi")
    with contextlib.suppress(BadRequest):
        await bot.send_message(PRIVATE, "<b>broken", parse_mode="HTML")
    with pytest.raises(AssertionError, match=r"(?s)expected 1 bot message.*can't parse entities"):
        await emu.wait_for_messages(PRIVATE, timeout=0.2)


async def test_webhook_gets_chats_at_once_and_each_chat_in_order(
    emu: BotApiEmulator, bot: Bot
) -> None:
    """As Telegram: updates of different chats are delivered concurrently (up to
    max_connections), so one slow answer does not hold up other chats; one chat's updates
    come one at a time, in order."""
    import json

    from tornado.httpserver import HTTPServer
    from tornado.web import Application, RequestHandler

    seen: list[tuple[str, str, int]] = []  # (start/end, text, chat)

    class SlowHook(RequestHandler):
        async def post(self) -> None:
            message = json.loads(self.request.body)["message"]
            seen.append(("start", message["text"], message["chat"]["id"]))
            await asyncio.sleep(0.3)
            seen.append(("end", message["text"], message["chat"]["id"]))

    port = free_port()
    server = HTTPServer(Application([("/hook", SlowHook)]))
    server.listen(port, "127.0.0.1")
    other = 4242
    emu.add_chat(other)
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        for text in ("one", "two", "three"):
            emu.send_user_message(PRIVATE, text)
        emu.send_user_message(other, "elsewhere")
        for update in list(emu.updates[-4:]):
            await emu.wait_for_delivery(update["update_id"], timeout=5)
    finally:
        server.stop()
    mine = [(kind, text) for kind, text, chat in seen if chat == PRIVATE]
    assert mine == [(k, t) for t in ("one", "two", "three") for k in ("start", "end")]
    # the other chat's update went in while the first chat's first was still being handled
    assert seen.index(("start", "elsewhere", other)) < seen.index(("end", "one", PRIVATE))
