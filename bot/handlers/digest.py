"""Daily digests: /subscribe, /subscriptions, /unsubscribe, /digest and the Unsubscribe button.

Anyone may read a chat's digests; in groups only the chat's administrators may add or stop
them (a member should not be able to fill a group with daily messages, or silence them).
Times are shown in each subscription's own zone. The scheduler lives in `bot.digests`.
"""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.digests import UNSUBSCRIBE, send_digest_now
from bot.handlers.common import reply_html
from bot.render import split_messages
from bot.render_digest import format_local_time
from services.digests import grace_of
from services.subscriptions import (
    USAGE,
    DuplicateSubscriptionError,
    Subscription,
    UsageError,
    clean_topic,
    next_send,
    parse_subscribe_args,
    parse_unsubscribe_args,
)

log = logging.getLogger(__name__)

ADMINS_ONLY = "Sorry, only this group's administrators can add or stop its digests."
BUTTON_ADMINS_ONLY = "Only the group's administrators can stop this digest."
ALREADY_STOPPED = "This digest was already stopped."
NONE_YET = (
    "No daily digests here yet.\n"
    "Start one with <code>/subscribe 08:00 Europe/Istanbul</code>: your time and time zone, "
    "optionally followed by a topic, e.g. <code>/subscribe 07:30 Europe/Istanbul Syria</code>."
)
NEW_MESSAGES = filters.UpdateType.MESSAGE  # commands are not re-run when a message is edited


def _e(text: str) -> str:
    return html.escape(text, quote=False)


# -- who may manage a chat's digests ---------------------------------------------------------


def is_anonymous_admin(message: Message | None) -> bool:
    """An anonymous group admin writes as the group itself: `sender_chat` is the chat."""
    return (
        message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
    )


async def may_manage(update: Update, context: BotContext) -> bool:
    """Private chats: the user. Groups: administrators and the creator (asked via getChatMember)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE or is_anonymous_admin(update.message):
        return True
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("cannot check whether %s administers chat %s: %s", user.id, chat.id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


# -- text ------------------------------------------------------------------------------------


def describe(sub: Subscription) -> str:
    """`<code>ABC234</code> 07:30 Europe/Istanbul on “Syria”`."""
    about = f" on “{_e(sub.topic)}”" if sub.topic else ""
    return f"<code>{sub.id}</code> at <b>{sub.hhmm}</b> {_e(sub.tz)}{about}"


def next_html(sub: Subscription, context: BotContext) -> str:
    """The next send time in the subscription's own zone ("due now" while it is being sent)."""
    now = context.bot_data.now()
    when = next_send(sub, now, grace_of(context.bot_data.settings))
    return "due now" if when <= now else format_local_time(when, sub.zone)


def usage_html(error: UsageError) -> str:
    return f"{_e(str(error))}\n\n{_e(USAGE)}"


def thread_of(message: Message) -> int | None:
    """The forum topic a command came from (other threads, like reply chains, are not kept)."""
    return message.message_thread_id if message.is_topic_message else None


# -- commands --------------------------------------------------------------------------------


async def subscribe(update: Update, context: BotContext) -> None:
    """`/subscribe [HH:MM] [Area/City] [topic…]`: a daily digest in this chat (and topic)."""
    message, chat = update.effective_message, update.effective_chat
    if not await may_manage(update, context):
        await message.reply_text(ADMINS_ONLY, do_quote=True)
        return
    store = context.bot_data.subscriptions
    chat_zone = store.chat_timezone(chat.id)
    try:
        request = parse_subscribe_args(context.args or [], chat_zone or "UTC")
    except UsageError as exc:
        await message.reply_text(usage_html(exc), do_quote=True)
        return
    now = context.bot_data.now()
    user = update.effective_user
    try:
        sub = store.add(
            chat.id,
            hhmm=request.hhmm,
            tz=request.tz,
            topic=request.topic,
            created_by=user.id if user else None,
            thread_id=thread_of(message),
            now=now,
        )
        text = f"Subscribed: a daily digest {describe(sub)}."
    except DuplicateSubscriptionError as exc:
        sub = exc.existing
        text = f"You already have this digest: {describe(sub)}."
    if request.tz_explicit:
        store.set_chat_timezone(chat.id, request.tz, now=now)
    resumed = store.resume_chat(chat.id)  # the chat talks to us again: unblocked or re-added
    text += f"\nNext one: {next_html(sub, context)}.\nStop it with /unsubscribe {sub.id}."
    if resumed:
        resumed_text = (
            "1 paused digest here is" if resumed == 1 else f"{resumed} paused digests here are"
        )
        text += f"\nWelcome back: {resumed_text} running again."
    if not request.tz_explicit and chat_zone is None:
        text += "\nTip: name your time zone, e.g. <code>/subscribe 07:30 America/New_York</code>."
    await message.reply_text(text, do_quote=True)


async def list_subscriptions(update: Update, context: BotContext) -> None:
    """`/subscriptions`: this chat's digests with their ids and next send times."""
    message, chat = update.effective_message, update.effective_chat
    subs = context.bot_data.subscriptions.list_for_chat(chat.id)
    if not subs:
        await message.reply_text(NONE_YET, do_quote=True)
        return
    lines = []
    for sub in subs:
        line = f"• {describe(sub)}"
        if sub.thread_id is not None:
            line += f" (topic {sub.thread_id})"
        if sub.paused:
            line += " — paused: I could not write here. /subscribe again to resume."
        else:
            line += f" — next: {next_html(sub, context)}"
        lines.append(line)
    blocks = [
        "<b>Daily digests in this chat</b>",
        *lines,
        "Stop one with /unsubscribe ID, or all with /unsubscribe all.",
    ]
    await reply_html(message, split_messages(blocks), quote=True)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """`/unsubscribe ID` or `/unsubscribe all`."""
    message, chat = update.effective_message, update.effective_chat
    if not await may_manage(update, context):
        await message.reply_text(ADMINS_ONLY, do_quote=True)
        return
    try:
        target = parse_unsubscribe_args(context.args or [])
    except UsageError as exc:
        await message.reply_text(_e(str(exc)), do_quote=True)
        return
    store = context.bot_data.subscriptions
    if target == "all":
        removed = store.remove_all(chat.id)
        text = (
            f"Stopped {'the daily digest' if removed == 1 else f'{removed} daily digests'} in "
            "this chat."
            if removed
            else "There are no daily digests in this chat."
        )
    elif store.remove(chat.id, target):
        text = f"Stopped the daily digest <code>{target}</code>."
    else:
        text = f"There is no digest <code>{target}</code> in this chat. See /subscriptions."
    await message.reply_text(text, do_quote=True)


async def digest_command(update: Update, context: BotContext) -> None:
    """`/digest [topic]`: the digest now, without waiting for (or using up) the daily one."""
    message = update.effective_message
    try:
        topic = clean_topic(context.args or [])
    except UsageError as exc:
        await message.reply_text(_e(str(exc)), do_quote=True)
        return
    await send_digest_now(context.application, message, topic)


async def unsubscribe_button(update: Update, context: BotContext) -> None:
    """The "Unsubscribe" button under a digest: stop it, confirm, take the button away."""
    query = update.callback_query
    chat = update.effective_chat
    sub_id = (query.data or "").partition(":")[2]
    if chat is None:
        await query.answer(ALREADY_STOPPED)
        return
    if not await may_manage(update, context):
        await query.answer(BUTTON_ADMINS_ONLY, show_alert=True)
        return
    store = context.bot_data.subscriptions
    sub = store.get(sub_id) if sub_id else None
    removed = sub is not None and store.remove(chat.id, sub.id)
    await query.answer("Unsubscribed." if removed else ALREADY_STOPPED)
    with contextlib.suppress(BadRequest):  # cosmetic; fails on messages too old to edit
        await query.edit_message_reply_markup(None)
    if removed and isinstance(query.message, Message):
        who = f" by {_e(query.from_user.full_name)}" if chat.type != ChatType.PRIVATE else ""
        await query.message.reply_text(
            f"Stopped the daily digest {describe(sub)}{who}. /subscribe to start a new one.",
            do_quote=False,
        )


def register_digest_handlers(application: Application) -> None:
    """Add the digest commands and button (before any catch-all handler of the same group)."""
    application.add_handlers(
        [
            CommandHandler("subscribe", subscribe, filters=NEW_MESSAGES),
            CommandHandler("subscriptions", list_subscriptions, filters=NEW_MESSAGES),
            CommandHandler("unsubscribe", unsubscribe, filters=NEW_MESSAGES),
            CommandHandler("digest", digest_command, filters=NEW_MESSAGES),
            CallbackQueryHandler(unsubscribe_button, pattern=rf"^{UNSUBSCRIBE}:"),
        ]
    )
