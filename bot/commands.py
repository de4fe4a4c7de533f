"""Every command the bot has, once: the menus Telegram shows and the /help text come from here.

A command registered with a handler but missing here would be missing from /help; the tests
compare this list with the application's handlers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import BotCommand


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    example: str  # what a user would type
    admin: bool = False  # only for ADMIN_USER_IDS
    menu: bool = True  # shown in Telegram's command menu


COMMANDS = (
    Command("ask", "Ask a question about the news", "/ask why was Sam Altman fired"),
    Command("timeline", "A story's reports in date order", "/timeline Sam Bankman-Fried trial"),
    Command("latest", "The newest articles, optionally on a topic", "/latest Apple"),
    Command("sources", "The outlets I have read", "/sources"),
    Command("digest", "Today's news digest, optionally on a topic", "/digest climate"),
    Command(
        "subscribe",
        "A daily news digest at your time",
        "/subscribe 07:30 Europe/London football",
    ),
    Command("subscriptions", "The daily digests in this chat", "/subscriptions"),
    Command("unsubscribe", "Stop a daily digest", "/unsubscribe all"),
    Command("help", "How to ask, and every command", "/help"),
    Command("start", "What I know and what to ask", "/start", menu=False),
    Command("stats", "What the index holds, feeds and the last poll", "/stats", admin=True),
    Command("reload", "Pick up what another process ingested", "/reload", admin=True),
    Command("feeds", "Followed feeds: last fetch, last new article, errors", "/feeds", admin=True),
    Command(
        "addfeed",
        "Follow a feed, optionally naming its outlet",
        "/addfeed https://example.com/rss.xml Example News",
        admin=True,
    ),
    Command("removefeed", "Stop following a feed", "/removefeed #3", admin=True),
    Command("pollnow", "Fetch every feed now and report", "/pollnow", admin=True),
)


def menu(*, admin: bool) -> list[BotCommand]:
    """The command menu: everyone's commands, and the admin ones for admins."""
    return [
        BotCommand(c.name, c.description) for c in COMMANDS if c.menu and (admin or not c.admin)
    ]


def help_html(username: str | None, *, admin: bool) -> str:
    """How to ask, then one line per command the reader may use, each with an example."""
    bot = f"@{username}" if username else "@BotName"
    lines = [
        "<b>How to ask</b>",
        "• Here: just write your question, e.g. <code>did travis kelce delete his tweets</code>",
        f"• In groups: <code>/ask QUESTION</code>, mention {bot}, or reply to one of my answers.",
        f"• In any chat: type <code>{bot} QUESTION</code> and pick an excerpt to post.",
        "• Time words work: “yesterday”, “last week”, “in December”, “since Monday”.",
        "",
        "<b>Commands</b>",
    ]
    for command in COMMANDS:
        if command.admin and not admin:
            continue
        if command.admin and not lines[-1].startswith("<b>Admin"):
            lines += ["", "<b>Admin commands</b>"]
        example = html.escape(command.example, quote=False)
        lines.append(f"/{command.name} — {command.description}, e.g. <code>{example}</code>")
    lines += [
        "",
        "I answer with quotes from the articles and link to them; I never make things up. "
        "If nothing relevant was reported, I say so.",
    ]
    return "\n".join(lines)
