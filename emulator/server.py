"""The HTTP side: a tornado server on 127.0.0.1 that dispatches ``/bot<token>/<method>``.

``BotApiEmulator`` is assembled here from the mixins, because starting the server is what
makes the assembled object usable: PTB is pointed at ``base_url`` and talks real HTTP to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
from typing import Any, Self

import httpx
import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web

from emulator.bot_info import BotInfoMethods
from emulator.chats import ChatMethods
from emulator.control import Control
from emulator.messages import MessageMethods
from emulator.params import decode_params
from emulator.queries import QueryMethods
from emulator.registry import METHODS
from emulator.state import ApiCall
from emulator.updates import UpdateMethods
from emulator.validation import ApiError, bad, too_many

_LOG = logging.getLogger(__name__)


class BotApiEmulator(
    Control, MessageMethods, UpdateMethods, QueryMethods, BotInfoMethods, ChatMethods
):
    """A Bot API server for one bot on 127.0.0.1, plus the users' side of the conversation.

    Inject traffic with ``send_user_message``/``send_inline_query``/``press_button``; inspect
    what the bot did with ``calls``, ``messages()``, ``inline_answers``... and await it with the
    ``wait_for_*`` helpers, which raise AssertionError with the recent calls on timeout.

    The parts: state in ``core``, the users' side in ``control`` and ``inspection``, the Bot
    API methods in ``messages``, ``updates``, ``queries``, ``bot_info`` and ``chats``.
    """

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1, on the running event loop."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        app = tornado.web.Application(
            [(r"/bot([^/]*)/([^/]*)", _ApiHandler, {"emulator": self})],
            default_handler_class=_NotFoundHandler,
            log_function=lambda _handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)
        self._port = sockets[0].getsockname()[1]
        self._closing = False
        self._http = httpx.AsyncClient(timeout=10)
        self._delivery_task = asyncio.create_task(self._deliver_forever())
        _LOG.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Answer pending long polls, close all connections and the webhook client."""
        if self._server is None:
            return
        self._closing = True
        self._wake_poller()
        if self._in_flight:  # let answered long polls reach their clients
            await asyncio.wait(set(self._in_flight), timeout=2)
        self._server.stop()
        await self._server.close_all_connections()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
        if self._http is not None:
            await self._http.aclose()
        self._server = self._http = self._delivery_task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("start() the emulator first")
        return self._port

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url()`` / ``Bot(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def _serve(
        self, token: str, method: str, raw: dict[str, Any], fault: str | None = None
    ) -> tuple[int, dict]:
        """Answer one call: token, method, parameters, a queued ``fail_next`` or an injected
        fault, then the handler; every outcome goes into ``calls``. Returns (HTTP status,
        JSON body)."""
        entry = METHODS.get(method.lower())
        name = entry[0] if entry else method
        params = dict(raw)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            params = decode_params(raw)
            if self._failures[name]:
                raise self._failures[name].popleft()
            if fault == "429":
                raise too_many(self._faults[name].retry_after)
            if fault == "5xx":
                raise ApiError(random.choice((500, 502)), "Internal Server Error")
            result = entry[1](self, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            self._record(ApiCall(name, params, exc.code, None, exc.description))
            return exc.code, exc.body()
        except Exception:
            _LOG.exception("the emulator failed on %s(%s)", name, params)
            self._record(ApiCall(name, params, 500, None, "Internal Server Error"))
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        self._record(ApiCall(name, params, 200, result))
        return 200, {"ok": True, "result": result}


class _ApiHandler(tornado.web.RequestHandler):
    """Serves ``/bot<token>/<method>``; a client hang-up cancels the call (long polls)."""

    SUPPORTED_METHODS = ("GET", "POST")

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self.gone.set()

    def _raw_params(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            name: values[-1].decode("utf-8", "replace")
            for name, values in self.request.arguments.items()
        }
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type.lower() == "application/json" and self.request.body.strip():
            body = json.loads(self.request.body)
            if not isinstance(body, dict):
                raise ValueError("the JSON body is not an object")
            raw.update(body)
        return raw

    async def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        with contextlib.suppress(tornado.iostream.StreamClosedError):
            await self.finish(json.dumps(body, ensure_ascii=False))

    async def get(self, token: str, method: str) -> None:
        in_flight = self.emulator._in_flight
        done = asyncio.get_running_loop().create_future()
        in_flight.add(done)
        try:
            await self._answer(token, method)
        finally:
            done.set_result(None)
            in_flight.discard(done)

    async def _answer(self, token: str, method: str) -> None:
        try:
            raw = self._raw_params()
        except ValueError:
            await self._reply(400, bad("can't parse JSON request body").body())
            return
        entry = METHODS.get(method.lower())
        fault = self.emulator.draw_fault(entry[0]) if entry else None
        if fault == "reset":  # closed before the call is read: nothing happens
            self.request.connection.close()
            return
        serve = asyncio.ensure_future(self.emulator._serve(token, method, raw, fault))
        gone = asyncio.ensure_future(self.gone.wait())
        await asyncio.wait({serve, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not serve.done():
            serve.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serve
            return
        if fault == "slow":  # carried out, answered too late for the client
            await asyncio.sleep(self.emulator._faults[entry[0]].slow_seconds)
        await self._reply(*serve.result())

    async def post(self, token: str, method: str) -> None:
        await self.get(token, method)


class _NotFoundHandler(tornado.web.RequestHandler):
    """Any other path: 404 in the Bot API's JSON shape."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
