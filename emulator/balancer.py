"""A round-robin load balancer in front of several webhook workers, for tests and benchmarks.

Telegram posts every update to one webhook URL; a deployment with several `newsbot serve
--webhook` workers puts a load balancer there. This one forwards each POST to the next worker
in turn, answers with the worker's status (502 when it is down: Telegram, and the emulator,
then keep the update pending) and remembers which worker got which update.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sys
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Balancer:
    """Round robin over workers listening on 127.0.0.1 `ports`; start it inside a loop."""

    def __init__(self, ports: list[int], path: str = "telegram") -> None:
        self.ports = ports
        self.path = path
        self._turn = itertools.cycle(range(len(ports)))
        self.worker_of: dict[int, int] = {}  # update id -> the worker it went to
        self.port = free_port()
        self._server: HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.path}"

    def start(self) -> None:
        balancer = self

        class Forward(RequestHandler):
            async def post(self, path: str) -> None:
                worker = next(balancer._turn)
                update_id = json.loads(self.request.body).get("update_id")
                if isinstance(update_id, int):
                    balancer.worker_of[update_id] = worker
                request = HTTPRequest(
                    f"http://127.0.0.1:{balancer.ports[worker]}/{path}",
                    method="POST",
                    body=self.request.body,
                    headers=dict(self.request.headers),
                    request_timeout=60,
                )
                try:
                    response = await AsyncHTTPClient().fetch(request, raise_error=False)
                    self.set_status(response.code if 100 <= response.code < 600 else 502)
                except (HTTPClientError, OSError):
                    self.set_status(502)

        self._server = HTTPServer(Application([(r"/(.*)", Forward)]))
        self._server.listen(self.port, "127.0.0.1")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1 `port` (a worker is up)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def start_webhook_worker(
    env: dict[str, str], *, port: int, url: str, secret: str
) -> asyncio.subprocess.Process:
    """`newsbot serve --webhook` as a child process on 127.0.0.1 `port`, registered at `url`
    (the balancer's), quiet; `env` names its data, database, worker and Bot API."""
    settings = {
        "WEBHOOK_URL": url,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": secret,
        "FEED_POLLING": "false",
        "NEWSBOT_FEEDS": "",
    }
    quiet = asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "serve", "--webhook",
        cwd=REPO, env={**os.environ, **settings, **env}, stdout=quiet, stderr=quiet,
    )  # fmt: skip
