"""A crowd, with and without Bot API faults: 1,000 updates from 200 chats within 10 seconds.

Usage: python benchmarks/crowd.py --index-dir DIR [--updates 1000] [--chats 200] [--seconds 10]

Runs the application `newsbot serve` runs (rate limiter, retry policy, per-chat order) against
the local Bot API emulator, on an index of the MultiHop-RAG corpus (`newsbot eval multihop`
builds one). The updates are private questions, group /ask commands and @mentions, inline
queries, "More" presses under answers already sent (in the chat drawn, else in the first chat
that has an unpressed More button; a question when none has) and /subscribe commands, spread
evenly over `--seconds`. Run twice: clean, then with
faults on every sending method (20% 429 with retry_after 1 s, 5% 500/502, 2% answered after
the client's read timeout, 2% connections dropped). Reported per run: updates answered, lost
and answered twice, answers out of order within a chat, answers/s, time to reply p50/p99; for
the presses, those answered (answerCallbackQuery) never or more than once and the pages sent
per press other than once; and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
import checkout  # noqa: E402, F401  (this checkout's code, not an installed copy)
from measure import emulator_settings, percentile  # noqa: E402

from bot.app import build_application, polling  # noqa: E402
from emulator import BotApiEmulator  # noqa: E402
from index import NewsIndex  # noqa: E402
from index.evaluate import load_questions  # noqa: E402

BOT = "CrowdBenchBot"
SENDS = ["sendMessage", "answerInlineQuery", "answerCallbackQuery", "sendChatAction"]
FAULTS = {"too_many": 0.2, "server_error": 0.05, "slow": 0.02, "reset": 0.02}


def plan(args: argparse.Namespace, questions: list[str]) -> list[tuple[str, int, str]]:
    """(kind, chat, text) per update: a fifth of the chats are groups; a "more" carries the
    question to ask instead when no More button can be pressed yet."""
    rng = random.Random(3)
    groups = [-100_000 - n for n in range(args.chats // 5)]
    private = [10_000 + n for n in range(args.chats - len(groups))]
    updates = []
    for n in range(args.updates):
        question = questions[n % len(questions)]
        draw = rng.random()
        if draw < 0.45:
            updates.append(("private", rng.choice(private), question))
        elif draw < 0.55:
            chat = rng.choice(private + groups)
            updates.append(("more", chat, question if chat > 0 else f"/ask {question}"))
        elif draw < 0.70:
            updates.append(("group", rng.choice(groups), f"/ask {question}"))
        elif draw < 0.80:
            updates.append(("group", rng.choice(groups), f"@{BOT} {question}"))
        elif draw < 0.95:
            updates.append(("inline", rng.choice(private), question))
        else:
            updates.append(("private", rng.choice(private), "/subscribe 08:00"))
    return updates


async def run(args: argparse.Namespace, faults: bool) -> dict[str, Any]:
    index = NewsIndex(args.index_dir)
    questions = [q["query"] for q in load_questions(args.data)][:400]
    updates = plan(args, questions)
    async with BotApiEmulator(bot_username=BOT) as emu:
        for _, chat, _ in updates:
            if chat < 0:
                emu.add_chat(chat, "supergroup", title=f"Group {chat}")
            else:
                emu.add_chat(chat)
        if faults:
            emu.inject_faults(SENDS, seed=11, **FAULTS)
        # a crowd of distinct users in spirit; not a flood
        settings = emulator_settings(emu, index, user_questions_per_minute=0)
        asked: dict[tuple[int, int], float] = {}  # (chat, message id) -> sent at
        inline: dict[str, float] = {}
        presses: dict[str, int] = {}  # callback query id -> chat
        pressed: set[tuple[int, int]] = set()  # (chat, message id) of the buttons pressed
        chats = sorted({chat for _, chat, _ in updates})
        async with polling(build_application(settings, index)):
            started = time.perf_counter()
            gap = args.seconds / len(updates)
            for n, (kind, chat, text) in enumerate(updates):
                await asyncio.sleep(max(0.0, started + n * gap - time.perf_counter()))
                target = more_button(emu, [chat, *chats], pressed) if kind == "more" else None
                if target is not None:
                    pressed.add(target[:2])
                    presses[emu.press_button(*target)] = target[0]
                elif kind == "inline":
                    inline[emu.send_inline_query(chat, text)] = time.perf_counter()
                else:
                    message = emu.send_user_message(chat, text)
                    asked[(chat, message["message_id"])] = time.perf_counter()
            replied = await wait_until_quiet(emu, asked, inline, presses, args.timeout)
            elapsed = time.perf_counter() - started
        index.close()
        replies: Counter[tuple[int, int]] = Counter()
        out_of_order = 0
        for chat in {c for c, _ in asked}:
            ids = [m.reply_to_message_id for m in emu.messages(chat) if m.reply_to_message_id]
            replies.update((chat, i) for i in ids)
            out_of_order += sum(1 for a, b in pairwise(ids) if b < a)
        answers = Counter(
            c.params.get("callback_query_id")
            for c in emu.calls
            if c.ok and c.method == "answerCallbackQuery"
        )
        wanted = Counter(presses.values())
        pages = {chat: sum(1 for m in emu.messages(chat) if is_page(m.plain)) for chat in wanted}
        latencies = [(replied[key] - at) * 1000 for key, at in asked.items() if key in replied]
        latencies += [
            (emu_answer_time - inline[q]) * 1000
            for q, emu_answer_time in replied.items()
            if isinstance(q, str) and q in inline
        ]
        return {
            "updates": len(updates),
            "answered": sum(1 for key in asked if replies[key] >= 1)
            + sum(1 for q in inline if q in emu.inline_answers)
            + sum(1 for q in presses if answers[q] >= 1),
            "lost": sum(1 for key in asked if replies[key] == 0)
            + sum(1 for q in inline if q not in emu.inline_answers)
            + sum(1 for q in presses if answers[q] == 0),
            "twice": sum(1 for key in asked if replies[key] > 1),
            "out_of_order": out_of_order,
            "presses": len(presses),
            "press_unanswered": sum(1 for q in presses if answers[q] == 0),
            "press_answered_twice": sum(1 for q in presses if answers[q] > 1),
            "pages_off": sum(abs(pages[chat] - n) for chat, n in wanted.items()),
            "per_second": len(updates) / elapsed,
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "faults": dict(emu.fault_counts),
        }


def more_button(emu: BotApiEmulator, chats: list[int], pressed: set) -> tuple[int, int, str] | None:
    """The newest More button not pressed yet in the first of `chats` that has one: (chat,
    message id, callback data)."""
    for chat in chats:
        for message in reversed(emu.messages(chat)):
            data = [b.get("callback_data", "") for b in message.buttons]
            more = [d for d in data if d.startswith("more:")]
            if more and (chat, message.message_id) not in pressed:
                return chat, message.message_id, more[0]
    return None


def is_page(plain: str) -> bool:
    """The first message of a page a More press sent (a first page says "N reports on")."""
    return plain.startswith(("Report ", "Reports ", "That is all I found"))


async def wait_until_quiet(
    emu: BotApiEmulator, asked: dict, inline: dict, presses: dict, timeout: float
) -> dict[Any, float]:
    """First-reply times per asked message and inline query (and the answer of each press),
    once every one has a reply and every press its page, or nothing happened for 10 s."""
    replied: dict[Any, float] = {}
    seen = 0
    deadline = time.perf_counter() + timeout
    quiet = time.perf_counter()
    while time.perf_counter() < deadline:
        calls = emu.calls
        for call in calls[seen:]:
            if call.ok and call.method == "sendMessage":
                key = (call.params.get("chat_id"), _reply_to(call.params))
                replied.setdefault(key, time.perf_counter())
            elif call.ok and call.method == "answerInlineQuery":
                replied.setdefault(call.params.get("inline_query_id"), time.perf_counter())
            elif call.ok and call.method == "answerCallbackQuery":
                replied.setdefault(call.params.get("callback_query_id"), time.perf_counter())
        if len(calls) != seen:
            seen, quiet = len(calls), time.perf_counter()
        pages = sum(
            1 for chat in set(presses.values()) for m in emu.messages(chat) if is_page(m.plain)
        )
        done = (
            all(k in replied for k in asked)
            and all(q in replied for q in inline)
            and all(q in replied for q in presses)
            and pages >= len(presses)
        )
        if done or time.perf_counter() - quiet > 10:
            break
        await asyncio.sleep(0.02)
    return replied


def _reply_to(params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters") or {}
    if isinstance(reply, str):
        import json

        reply = json.loads(reply)
    return reply.get("message_id") or params.get("reply_to_message_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "newsdata")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    print(f"{args.updates} updates from {args.chats} chats within {args.seconds:g} s")
    for faults in (False, True):
        result = asyncio.run(run(args, faults))
        label = "with faults" if faults else "clean"
        print(
            f"{label:12} answered {result['answered']}/{result['updates']}, lost "
            f"{result['lost']}, twice {result['twice']}, out of order {result['out_of_order']}; "
            f"{result['per_second']:.1f} updates/s; reply p50 {result['p50_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms; faults {result['faults']}"
        )
        print(
            f"{'':12} More pressed {result['presses']}: answered never "
            f"{result['press_unanswered']}, twice {result['press_answered_twice']}; pages "
            f"other than one per press {result['pages_off']}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (both runs, one process); median of one run each")


if __name__ == "__main__":
    main()
