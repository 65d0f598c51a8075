"""A small HTTP proxy in front of the real Prometheus that injects faults.

PromQL is still evaluated by the real server; the proxy only breaks the transport. Two ways:
- standing faults, for every request whose decoded path + body holds ``fail_matching`` (or every
  request when it is None): ``delay_seconds`` slows the answer, ``error_status`` answers that HTTP
  status (with ``error_text`` as its error, e.g. Thanos' refusal of a query as too large),
  ``malformed`` answers a body that is not JSON, ``echo_request`` answers HTTP 400 whose
  error text echoes the request (its headers and body) the way a careless proxy does;
- one-shot faults queued with ``inject(Fault(...), ...)``, applied to the next requests in order
  (error status, delay, a raw body, or Thanos-style partial-response ``warnings`` added to the
  real answer); they take precedence over the standing ones.
It records what the client sent (method, path, headers, form fields) for assertions.
With ``align_range_with_step`` it also rewrites every range query the way Thanos' query-frontend
does by default (``--query-range.align-range-with-step``): start and end rounded down to a
multiple of the step. ``rewrite_query`` rewrites the PromQL text of every query (e.g. to evaluate
it as another engine would: tests.support.engines).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import requests

NOT_JSON = b"<html>gateway error</html>"


@dataclass
class Fault:
    status: int | None = None  # answer this status with a JSON error body instead of forwarding
    error: str | None = None  # that body's error text (default: "injected <status>")
    delay_seconds: float = 0.0  # sleep before answering
    body: bytes | None = None  # answer 200 with this raw body
    add_warnings: bool = False  # forward, then add Thanos' partial-response warnings to the answer
    echo: bool = False  # answer 400 with the request (headers, body) echoed in the error text


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]]


@dataclass
class FaultProxy:
    upstream: str
    delay_seconds: float = 0.0
    error_status: int | None = None
    error_text: str | None = None
    malformed: bool = False
    echo_request: bool = False
    fail_matching: str | None = None
    align_range_with_step: bool = False
    rewrite_query: Callable[[str], str] | None = None
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests_seen(self) -> int:
        return len(self.requests)

    def inject(self, *faults: Fault) -> None:
        """Apply these faults to the next requests, one each, in order."""
        self.faults.extend(faults)

    def _standing_fault(self, decoded: str) -> Fault:
        if self.fail_matching is not None and self.fail_matching not in decoded:
            return Fault()
        return Fault(status=self.error_status, error=self.error_text, delay_seconds=self.delay_seconds,
                     body=NOT_JSON if self.malformed else None, echo=self.echo_request)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        text = body.decode("utf-8", "replace")
        self.requests.append(RecordedRequest(handler.command, split.path, dict(handler.headers),
                                             parse_qs(split.query) | parse_qs(text)))
        fault = self.faults.popleft() if self.faults else self._standing_fault(
            unquote_plus(handler.path) + unquote_plus(text))
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.echo:
            echoed = f"bad request: {handler.command} {handler.path} {dict(handler.headers)} {text}"
            return self._reply(handler, 400, json.dumps({"status": "error", "error": echoed}).encode())
        if fault.status is not None:
            error = {"status": "error", "errorType": "injected", "error": fault.error or f"injected {fault.status}"}
            return self._reply(handler, fault.status, json.dumps(error).encode())
        if fault.body is not None:
            return self._reply(handler, 200, fault.body)
        if self.align_range_with_step and split.path.endswith("/query_range"):
            body = _step_aligned(text).encode()
        if self.rewrite_query is not None and "query" in parse_qs(body.decode()):
            body = _with_query(body.decode(), self.rewrite_query).encode()
        upstream = requests.request(
            handler.command, self.upstream + handler.path, data=body or None, timeout=120,
            headers={"Content-Type": handler.headers.get("Content-Type", "application/x-www-form-urlencoded")})
        content = upstream.content
        if fault.add_warnings:
            answer = upstream.json()
            answer["warnings"] = ["receive-0: store unavailable, partial data"]
            content = json.dumps(answer).encode()
        self._reply(handler, upstream.status_code, content)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, content: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._serve(self)

            def do_POST(self) -> None:
                proxy._serve(self)

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

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _with_query(form: str, rewrite: Callable[[str], str]) -> str:
    fields = {name: values[0] for name, values in parse_qs(form).items()}
    fields["query"] = rewrite(fields["query"])
    return urlencode(fields)


def _step_aligned(form: str) -> str:
    """A range query's form with start and end rounded down to a multiple of its step (in ms), as
    Thanos' query-frontend (and Cortex's step-align middleware) rewrite them."""
    fields = {name: values[0] for name, values in parse_qs(form).items()}
    step_ms = round(float(fields["step"]) * 1000)
    for edge in ("start", "end"):
        fields[edge] = f"{(round(float(fields[edge]) * 1000) // step_ms) * step_ms / 1000:.3f}"
    return urlencode(fields)
