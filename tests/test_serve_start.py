"""`newsbot serve` when the Bot API refuses it or cannot be reached: one clear line, exit 1,
and the token nowhere in what it prints (python-telegram-bot's own error quotes it whole)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from emulator import BotApiEmulator
from index import NewsIndex

REPO = Path(__file__).resolve().parent.parent
WRONG_TOKEN = "123456:WrongSecretWrongSecretWrong"


async def serve(data_dir: Path, base_url: str) -> tuple[int, str]:
    NewsIndex(data_dir, create=True).close()  # an empty index: enough to start
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(data_dir),
        "TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
        "TELEGRAM_BASE_URL": base_url,
        "FEED_POLLING": "false",
        "NEWSBOT_FEEDS": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "serve",
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, output.decode()


async def test_a_rejected_token_is_reported_without_the_token(tmp_path: Path) -> None:
    async with BotApiEmulator() as emulator:  # knows another token: answers 401
        code, output = await serve(tmp_path / "data", emulator.base_url)
    assert code == 1
    assert "rejected TELEGRAM_BOT_TOKEN" in output
    assert WRONG_TOKEN.split(":")[1] not in output


async def test_an_unreachable_bot_api_is_reported_without_the_token(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = await serve(tmp_path / "data", f"http://127.0.0.1:{port}/bot")
    assert code == 1
    assert f"cannot reach the Bot API at http://127.0.0.1:{port}/bot" in output
    assert WRONG_TOKEN.split(":")[1] not in output
