"""A local web for the feed tests: an HTTP server whose routes the tests set, RSS builders, and
an address nobody listens on. Real HTTP, so fetching, timeouts and charsets are the real thing.
"""

from __future__ import annotations

import contextlib
import html
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Article paragraphs the feed tests serve (as full text in a feed or as a page).
SOLAR = [
    "The harbour town of Port Elwyn switched on a floating solar farm on its old drinking-water "
    "reservoir on Monday, the first installation of its kind in the region.",
    "Some 12,000 panels rest on plastic pontoons anchored to the reservoir bed, and the "
    "operator says they will supply about a fifth of the town's electricity in summer.",
    "Engineers chose the reservoir because the water keeps the panels cool, which raises their "
    "output, while the shade slows the growth of algae that had troubled the water company.",
    "The town council paid for the project with a green bond sold to residents, who will "
    "receive a share of the income from the electricity for the next twenty years.",
]
LIBRARY = [
    "The central library of Ashford reopened after a two-year renovation that added a rooftop "
    "reading garden, a repair café and a studio where residents can record podcasts for free.",
    "Visitor numbers on the first weekend exceeded twenty thousand, according to the city, and "
    "the waiting list for the recording studio is already full until the end of the autumn.",
]


Route = Callable[[BaseHTTPRequestHandler], None]


class LocalWeb:
    """Routes set by the tests; every request logged with its headers, how many were in flight
    at once, and per path an optional delay or a gate that holds requests until it is set."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.delays: dict[str, float] = {}
        self.gates: dict[str, threading.Event] = {}
        self.arrived: dict[str, threading.Event] = {}
        self.release = threading.Event()  # for routes that wait until the test ends
        self.sent_bytes = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(
                        (self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if self.path in server.arrived:
                        server.arrived[self.path].set()
                    if self.path in server.gates:
                        server.gates[self.path].wait(30)
                    time.sleep(server.delays.get(self.path, 0.0))
                    route = server.routes.get(self.path)
                    # the client may hang up early: that is the point of some tests
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        if route is None:
                            self.send_error(404)
                        else:
                            route(self)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalWeb:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        for gate in self.gates.values():
            gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml",
        *,
        status: int = 200,
        etag: str | None = None,
    ) -> str:
        """Serve `body` at `path` (304 to a matching If-None-Match); returns the full URL."""

        def route(handler: BaseHTTPRequestHandler) -> None:
            if etag and handler.headers.get("If-None-Match") == etag:
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            if etag:
                handler.send_header("ETag", etag)
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route
        return self.base + path

    def hold(self, path: str) -> tuple[threading.Event, threading.Event]:
        """Requests for `path` wait until the returned gate is set; `arrived` says one came."""
        self.arrived[path], self.gates[path] = threading.Event(), threading.Event()
        return self.arrived[path], self.gates[path]

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)


def closed_port_url(path: str = "/feed.xml") -> str:
    """A local address nobody listens on: the connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def item(title: str, link: str, paragraphs: list[str] | None = None, summary: str = "") -> str:
    """One RSS item: full text in content:encoded, or only a teaser in description."""
    body = ""
    if paragraphs:
        encoded = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        body = f"<content:encoded><![CDATA[{encoded}]]></content:encoded>"
    return (
        f"<item><title>{html.escape(title)}</title><link>{link}</link>"
        "<pubDate>Tue, 10 Jun 2025 09:00:00 GMT</pubDate>"
        f"<description>{html.escape(summary)}</description>{body}</item>"
    )


def rss(title: str, *items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{title}</title><link>https://example.test/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()
