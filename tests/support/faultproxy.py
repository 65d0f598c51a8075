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
it as another engine would: tests.support.engines). ``blank(Blank(...))`` leaves series (or some of
their hours) out of the range-query answers it matches, a well-formed answer with less in it: what
Thanos returns when a store holding them is not (yet) registered or a shard timed out without a
warning.
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
from typing import Any
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
class Blank:
    """Leave out of every range-query answer whose PromQL ``query`` accepts the points of the series
    carrying all of ``labels`` (every series when empty) at instants in [``start``, ``end``) (unix
    seconds; every instant when None); a series left without points is left out. ``times``: how many
    matching answers to alter (None: all of them), so a test can let the store come back."""

    query: Callable[[str], bool]
    labels: dict[str, str] = field(default_factory=dict)
    start: float | None = None
    end: float | None = None
    times: int | None = None
    altered: int = 0  # answers altered so far

    def takes(self, query: str) -> bool:
        return self.query(query) and (self.times is None or self.altered < self.times)

    def apply(self, answer: dict[str, Any]) -> None:
        kept = []
        for series in answer["data"]["result"]:
            if all(series["metric"].get(name) == value for name, value in self.labels.items()):
                series["values"] = [point for point in series["values"] if not self._within(float(point[0]))]
            if series["values"]:
                kept.append(series)
        answer["data"]["result"] = kept

    def _within(self, instant: float) -> bool:
        return (self.start is None or instant >= self.start) and (self.end is None or instant < self.end)


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
    blanks: list[Blank] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

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

    def blank(self, *blanks: Blank) -> None:
        """Leave these series (or hours of them) out of the answers they match, from now on."""
        self.blanks.extend(blanks)

    def _blanks_for(self, request: RecordedRequest) -> list[Blank]:
        if not request.path.endswith("/query_range"):
            return []
        query = request.fields.get("query", [""])[0]
        with self._lock:  # the client sends a chunk's queries concurrently
            taken = [blank for blank in self.blanks if blank.takes(query)]
            for blank in taken:
                blank.altered += 1
        return taken

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
        recorded = RecordedRequest(handler.command, split.path, dict(handler.headers),
                                   parse_qs(split.query) | parse_qs(text))
        self.requests.append(recorded)
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
        blanks = self._blanks_for(recorded)
        if fault.add_warnings or blanks:
            answer = upstream.json()
            for blank in blanks:
                blank.apply(answer)
            if fault.add_warnings:
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
