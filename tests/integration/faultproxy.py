"""A local HTTP proxy in front of the real Prometheus that injects faults.

It forwards every request unchanged unless told otherwise: ``delay_seconds`` slows each answer
down, ``error_status`` answers that HTTP status instead, ``malformed`` answers a body that is
not JSON, and ``fail_matching`` limits the faults to requests whose decoded query text holds
that string (e.g. one account id). The Prometheus behind it still evaluates every PromQL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote_plus

import requests


@dataclass
class FaultProxy:
    upstream: str
    delay_seconds: float = 0.0
    error_status: int | None = None
    malformed: bool = False
    fail_matching: str | None = None
    requests_seen: int = 0
    _server: ThreadingHTTPServer | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._forward(self, "GET")

            def do_POST(self) -> None:
                proxy._forward(self, "POST")

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _faulty(self, text: str) -> bool:
        return self.fail_matching is None or self.fail_matching in text

    def _forward(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.requests_seen += 1
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        decoded = unquote_plus(handler.path) + unquote_plus(body.decode("utf-8", "replace"))
        faulty = self._faulty(decoded)
        if self.delay_seconds and faulty:
            time.sleep(self.delay_seconds)
        if faulty and (self.error_status is not None or self.malformed):
            status, payload = (self.error_status or 200), b"<html>not json</html>"
            self._reply(handler, status, payload, "text/html")
            return
        headers = {"Content-Type": handler.headers.get("Content-Type", "application/x-www-form-urlencoded")}
        upstream = requests.request(method, self.upstream + handler.path, data=body or None, headers=headers,
                                    timeout=120)
        self._reply(handler, upstream.status_code, upstream.content,
                    upstream.headers.get("Content-Type", "application/json"))

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
