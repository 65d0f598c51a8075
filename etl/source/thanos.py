"""HTTP client for the Thanos (Prometheus-compatible) query API.

Auth, TLS, retries with backoff, and strict response checking. No secret (token, password,
header value, URL user-info) ever reaches a log line or an exception message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt
import requests
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from etl.config import ThanosSettings
from etl.errors import ConfigError, PartialResponseError, ThanosError
from etl.redact import MAX_UPSTREAM_TEXT, redact, register_secrets, url_secrets
from etl.source.connect_errors import connection_failure, is_tls_failure

log = logging.getLogger(__name__)

# Thanos refuses range queries returning more points than this per series.
MAX_POINTS_PER_SERIES = 11_000
# The retry policy: these answers (and timeouts, refused connections) are worth another attempt,
# up to thanos.retries more, waiting backoff_seconds x 2^n between them but never more than this.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30
# Refusals of a query as too large, by their error text whatever the status (Prometheus, Thanos Query:
# HTTP 422 "execution"; a query-frontend: 400). Not retried (refused again); its parts may pass and
# etl.source.fetch asks them. Limits on samples, chunks, bytes, range length: a shorter range helps.
TOO_MANY_SAMPLES = (
    "would load too many samples into memory",  # Prometheus / Thanos Query engine, --query.max-samples
    "exceeded chunks limit", "exceeded bytes limit",  # Thanos Store, --store.limits.request-samples (in chunks)
    "failed to send samples",  # Thanos Query / Sidecar / Store, --store.grpc.samples-limit
    "exceeded sample limit",  # Prometheus remote read behind a Thanos Sidecar, --storage.remote.read-sample-limit
    "the query time range exceeds the limit",  # query-frontend, --query-range.max-query-length
)
# Limits on series: fewer accounts lessen them, a shorter range hardly does.
TOO_MANY_SERIES = (
    "exceeded series limit",  # Thanos Store, --store.limits.request-series
    "failed to send series",  # Thanos Query / Sidecar / Store, --store.grpc.series-limit
)


class _RetryableError(ThanosError):
    """A failure worth another attempt (connection trouble, 429, 5xx)."""


class QueryTooLargeError(ThanosError):
    """Thanos (or Prometheus) refused a query as too large for one of its limits (TOO_MANY_SAMPLES,
    TOO_MANY_SERIES). ``reason``: its error text (redacted, cut); ``per_series``: the limit counts
    series, which fewer accounts lessen better than a shorter range."""

    def __init__(self, message: str, reason: str, per_series: bool) -> None:
        self.reason = reason
        self.per_series = per_series
        super().__init__(message)


@dataclass(frozen=True)
class Series:
    """One series of a range-query answer: its labels and its points, an (n, 2) float array of
    (unix seconds, value) rows (iterating it yields the pairs). An array, not Python tuples: an
    answer holds hundreds of thousands of points, and they are parsed and checked at C speed."""

    labels: dict[str, str]
    points: npt.NDArray[np.float64]


def _points(values: Any) -> npt.NDArray[np.float64]:
    """[[ts, "value"], ...] -> an (n, 2) float array; ValueError if it is not that shape."""
    points = np.array(values, dtype=np.float64)
    if points.size == 0:
        return points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError("points are not (timestamp, value) pairs")
    return points


def redact_url(url: str) -> str:
    """The URL without user-info, query or fragment: safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("Thanos request failed (%s); retry %d", error, state.attempt_number)


def _require_requested_instants(answer: list[Series], start: float, end: float, step_seconds: int,
                                safe_url: str) -> None:
    """Every point must sit on an instant that was asked for (start + k x step <= end).

    A proxy that moves the range (e.g. a query-frontend aligning start and end to the step) would
    otherwise hand back windows other than the ones requested: figures for the wrong hours, and
    an hour outside the chunk whose day would then be rewritten from that hour alone.
    """
    start_ms, end_ms, step_ms = round(start * 1000), round(end * 1000), step_seconds * 1000
    for series in answer:
        offsets_ms = np.round(series.points[:, 0] * 1000) - start_ms
        wrong = (offsets_ms % step_ms != 0) | (offsets_ms < 0) | (offsets_ms > end_ms - start_ms)
        if wrong.any():
            ts = float(series.points[int(wrong.argmax()), 0])
            raise ThanosError(
                f"Thanos at {safe_url} answered a range query for instant {ts:.3f}, which was not asked "
                f"for (start {start:.3f}, end {end:.3f}, step {step_seconds}s): is a proxy or "
                "query-frontend moving query ranges?"
            )


# Told about every API call (after its retries): path, seconds taken, whether it succeeded.
RequestObserver = Callable[[str, float, bool], None]


class ThanosClient:
    def __init__(self, settings: ThanosSettings, observer: RequestObserver | None = None,
                 session: requests.Session | None = None) -> None:
        self._settings = settings
        self.observer = observer
        self.base_url = settings.require_url()
        self.safe_url = redact_url(self.base_url)
        self.max_concurrent_queries = settings.max_concurrent_queries  # for etl.source.parallel
        self._session = session or requests.Session()
        self._session.headers.update(settings.headers)
        self._session.headers["Accept"] = "application/json"
        token = settings.bearer_token
        if settings.bearer_token_file:
            try:
                token = Path(settings.bearer_token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError("thanos.bearer_token_file", f"cannot read it: {exc.strerror}") from None
        # Whatever reaches a log line, stderr or the run log is redacted of these (etl.redact).
        register_secrets([token, settings.password, *settings.headers.values(), *url_secrets(self.base_url)])
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif settings.username is not None:
            self._session.auth = (settings.username, settings.password or "")
        self._session.verify = settings.ca_file if settings.ca_file else settings.verify_tls
        self._request_with_retries = retry(
            retry=retry_if_exception(lambda exc: isinstance(exc, _RetryableError)),
            stop=stop_after_attempt(settings.retries + 1),
            wait=wait_exponential(multiplier=settings.backoff_seconds, max=MAX_BACKOFF_SECONDS),
            before_sleep=_log_retry,
            reraise=True,
        )(self._request_once)

    # -- transport -------------------------------------------------------------------------
    def _request_once(self, method: str, path: str, params: dict[str, Any]) -> Any:
        url = f"{self.base_url}{path}"
        timeout = (self._settings.connect_timeout_seconds, self._settings.timeout_seconds)
        # Queries go as POST forms: a long account matcher would overflow a URL.
        body_params, url_params = (params, None) if method == "POST" else (None, params)
        try:
            # verify passed per request: requests lets REQUESTS_CA_BUNDLE override a session's own setting,
            # which would silently ignore THANOS_CA_FILE / THANOS_VERIFY_TLS.
            response = self._session.request(method, url, data=body_params, params=url_params, timeout=timeout,
                                             verify=self._session.verify)
        except (requests.ConnectTimeout, requests.ConnectionError) as exc:
            # Said why (DNS, TLS, refused, timeout); a failed TLS verification does not heal by retrying.
            reason = connection_failure(exc, url, timeout[0])
            failure = ThanosError if is_tls_failure(exc) else _RetryableError
            raise failure(f"cannot connect to Thanos at {self.safe_url}: {reason}") from None
        except requests.Timeout:
            raise _RetryableError(f"Thanos at {self.safe_url} timed out on {path}") from None
        except requests.RequestException as exc:
            raise ThanosError(f"request to Thanos at {self.safe_url} failed: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            self._refuse_if_too_large(str(body.get("error", "")), path, response.status_code)
        if response.status_code in RETRYABLE_STATUS:
            raise _RetryableError(f"Thanos at {self.safe_url} answered HTTP {response.status_code} on {path}")
        if body is None:
            raise ThanosError(
                f"Thanos at {self.safe_url} answered HTTP {response.status_code} on {path} with a body "
                "that is not JSON (is THANOS_URL the query API?)"
            )
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = body.get("error", "no error text") if isinstance(body, dict) else "malformed body"
            # Upstream text is quoted redacted and short: a proxy may echo the request, token included.
            raise ThanosError(f"Thanos at {self.safe_url} rejected {path} (HTTP {response.status_code}): "
                              f"{redact(str(detail), MAX_UPSTREAM_TEXT)}")
        if body.get("warnings"):
            raise PartialResponseError(
                f"Thanos at {self.safe_url} returned a partial response on {path}: "
                f"{redact('; '.join(map(str, body['warnings'])), MAX_UPSTREAM_TEXT)}"
            )
        if "data" not in body:
            raise ThanosError(f"Thanos at {self.safe_url} answered {path} without data")
        return body["data"]

    def _refuse_if_too_large(self, error: str, path: str, status: int) -> None:
        """Raise QueryTooLargeError when ``error`` (an error answer's text) names a size limit."""
        text = error.lower()
        per_series = any(marker in text for marker in TOO_MANY_SERIES)
        if per_series or any(marker in text for marker in TOO_MANY_SAMPLES):
            reason = redact(error, MAX_UPSTREAM_TEXT)
            raise QueryTooLargeError(f"Thanos at {self.safe_url} refused {path} as too large (HTTP {status}): "
                                     f"{reason}", reason, per_series)

    def _call(self, method: str, path: str, params: dict[str, Any]) -> Any:
        started = time.monotonic()
        succeeded = False
        try:
            data = self._request_with_retries(method, path, params)
            succeeded = True
            return data
        finally:
            elapsed = time.monotonic() - started
            log.debug("Thanos %s took %.3fs", path, elapsed)
            if self.observer:
                self.observer(path, elapsed, succeeded)

    def _thanos_params(self) -> dict[str, Any]:
        return {
            "dedup": str(self._settings.dedup).lower(),
            "partial_response": "false",
            "max_source_resolution": self._settings.max_source_resolution,
        }

    def _match_params(self, matchers: list[str], start: datetime, end: datetime) -> dict[str, Any]:
        """Parameters of the metadata endpoints (series, label values): matchers and a time range."""
        return {"match[]": matchers, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}",
                **self._thanos_params()}

    # -- API -------------------------------------------------------------------------------
    def query_range(self, query: str, start: float, end: float, step_seconds: int) -> list[Series]:
        """Evaluate ``query`` at start, start+step, ... <= end (unix seconds)."""
        points = int((end - start) // step_seconds) + 1
        if points > MAX_POINTS_PER_SERIES:
            raise ValueError(f"range of {points} points exceeds Thanos' {MAX_POINTS_PER_SERIES} limit")
        data = self._call(
            "POST",
            "/api/v1/query_range",
            {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step_seconds),
             **self._thanos_params()},
        )
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise ThanosError(f"Thanos at {self.safe_url} answered a range query without a matrix")
        try:
            answer = [
                Series(labels=dict(item["metric"]), points=_points(item["values"]))
                for item in data["result"]
            ]
        except (KeyError, TypeError, ValueError):
            raise ThanosError(f"Thanos at {self.safe_url} answered a malformed matrix") from None
        _require_requested_instants(answer, start, end, step_seconds, self.safe_url)
        return answer

    def query(self, query: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """Evaluate an instant query at ``at``: (labels, value) per series of the vector."""
        data = self._call("POST", "/api/v1/query",
                          {"query": query, "time": f"{at.timestamp():.3f}", **self._thanos_params()})
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise ThanosError(f"Thanos at {self.safe_url} answered an instant query without a vector")
        try:
            return [(dict(item["metric"]), float(item["value"][1])) for item in data["result"]]
        except (KeyError, TypeError, ValueError, IndexError):
            raise ThanosError(f"Thanos at {self.safe_url} answered a malformed vector") from None

    def series(self, matchers: list[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        """Label sets of the series matching any of ``matchers`` within [start, end]."""
        data = self._call("POST", "/api/v1/series", self._match_params(matchers, start, end))
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ThanosError(f"Thanos at {self.safe_url} answered a series query with a malformed list")
        return [{str(k): str(v) for k, v in item.items()} for item in data]

    def ping(self) -> None:
        """Evaluate a trivial query: proves the URL, auth and API work (ThanosError otherwise)."""
        data = self._call("POST", "/api/v1/query", {"query": "vector(1)", **self._thanos_params()})
        if not isinstance(data, dict) or "resultType" not in data:
            raise ThanosError(f"Thanos at {self.safe_url} answered a query with a malformed body")

    def label_values(self, label: str, matchers: list[str], start: datetime, end: datetime) -> list[str]:
        """Values of ``label`` on series matching any of ``matchers`` within [start, end]."""
        # The label-values endpoint only takes GET.
        data = self._call("GET", f"/api/v1/label/{label}/values", self._match_params(matchers, start, end))
        if not isinstance(data, list) or not all(isinstance(value, str) for value in data):
            raise ThanosError(f"Thanos at {self.safe_url} answered label values with a malformed list")
        return sorted(data)
