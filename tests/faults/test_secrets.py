"""A proxy that echoes the request into its error text must not leak the credentials it carried.

The bearer token, a header value, and (in a second run) the password of HTTP basic auth given as
URL user-info are sent to the proxy, which answers every range query with HTTP 400 quoting the
request's headers and body. None of those values may appear on stderr, stdout, in `etl_runs.error`
or in `etl_account_state.last_error`; the quoted upstream text is cut to a few hundred characters.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.support import datasets, processes
from tests.support.faultproxy import FaultProxy
from tests.support.servers import cli_env

TOKEN = "tok-3f9a1c77e2b04d5e"
HEADER_VALUE = "hdr-9b1e4a0c5d"
PASSWORD = "pw-5c2e8d1f07"


def stored_errors(engine: Engine) -> str:
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT coalesce(string_agg(error, '|'), '') FROM etl_runs")).scalar_one()
        state = connection.execute(
            text("SELECT coalesce(string_agg(last_error, '|'), '') FROM etl_account_state")).scalar_one()
    return f"{runs}|{state}"


def test_an_echoing_proxy_leaks_no_secret(prometheus_with, database_url: str, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    thanos_url = prometheus_with("ops-abc", datasets.ops_dataset())
    with FaultProxy(thanos_url, echo_request=True, fail_matching="query_range") as proxy:
        token_run = processes.finish(processes.start(["backfill", "--start", "2026-09-01", "--end", "2026-09-02"],
                                                     cli_env(proxy.url, database_url, THANOS_BEARER_TOKEN=TOKEN,
                                                             THANOS_HEADERS=f"X-Api-Key={HEADER_VALUE}")))
        user_info = proxy.url.replace("http://", f"http://etl:{PASSWORD}@")
        password_run = processes.finish(processes.start(
            ["backfill", "--start", "2026-09-03", "--end", "2026-09-03"], cli_env(user_info, database_url)))
        echoed = [request for request in proxy.requests if request.path.endswith("query_range")]
    # the proxy did receive the secrets, and answered with them
    assert any(request.headers.get("Authorization") == f"Bearer {TOKEN}" for request in echoed)
    assert any(request.headers.get("X-Api-Key") == HEADER_VALUE for request in echoed)
    assert any(request.headers.get("Authorization", "").startswith("Basic ") for request in echoed)
    for result in (token_run, password_run):
        assert result.returncode == 1, str(result)
        assert "rejected /api/v1/query_range (HTTP 400): bad request" in result.stderr
    outgoing = token_run.stdout + token_run.stderr + password_run.stdout + password_run.stderr + stored_errors(engine)
    for secret in (TOKEN, HEADER_VALUE, PASSWORD):
        assert secret not in outgoing
    # the upstream text is quoted short: no stderr line carries the whole echoed request
    assert max(len(line) for line in token_run.stderr.splitlines()) < 1000
