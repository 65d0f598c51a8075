"""A small HTTP proxy in front of the real Prometheus that can inject faults.

PromQL is still evaluated by the real server; the proxy only breaks the transport: error
statuses, delays, bodies that are not JSON, or Thanos-style ``warnings`` added to a real answer.
It also records what the client sent (paths, headers, form fields) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Fault:
    status: int | None = None  # answer this status with a JSON error body instead of forwarding
    delay_seconds: float = 0.0  # sleep before answering
    body: bytes | None = None  # answer 200 with this raw body
    add_warnings: bool = False  # forward, then add Thanos' partial-response warnings to the answer


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]]


@dataclass
class FaultProxy:
    upstream: str
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def inject(self, *faults: Fault) -> None:
        """Apply these faults to the next requests, one each, in order."""
        self.faults.extend(faults)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                fields = parse_qs(split.query) | parse_qs(body.decode())
                proxy.requests.append(RecordedRequest(self.command, split.path, dict(self.headers), fields))
                fault = proxy.faults.popleft() if proxy.faults else Fault()
                if fault.delay_seconds:
                    time.sleep(fault.delay_seconds)
                if fault.status is not None:
                    return self._answer(fault.status, json.dumps(
                        {"status": "error", "errorType": "injected", "error": f"injected {fault.status}"}).encode())
                if fault.body is not None:
                    return self._answer(200, fault.body)
                upstream = requests.request(self.command, proxy.upstream + self.path, data=body,
                                            headers={"Content-Type": self.headers.get("Content-Type", "")},
                                            timeout=60)
                content = upstream.content
                if fault.add_warnings:
                    answer = upstream.json()
                    answer["warnings"] = ["receive-0: store unavailable, partial data"]
                    content = json.dumps(answer).encode()
                self._answer(upstream.status_code, content)

            def _answer(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _serve
            do_POST = _serve

        return Handler

    def __enter__(self) -> FaultProxy:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
