"""Why a connection to Thanos failed, in words a user can act on: DNS, TLS, refused or timeout."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError

MAX_DEPTH = 8


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: requests wraps urllib3, which wraps the socket's error."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending and len(seen) < MAX_DEPTH * 4:
        item = pending.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending += [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]


def is_tls_failure(exc: BaseException) -> bool:
    return any(isinstance(item, requests.exceptions.SSLError | ssl.SSLError) for item in _chain(exc))


def connection_failure(exc: BaseException, url: str, connect_timeout_seconds: float) -> str:
    """The reason, e.g. "the DNS lookup of thanos.example failed (is the host name right?)"."""
    parts = urlsplit(url)
    host = parts.hostname or "the host"
    address = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    chain = list(_chain(exc))
    if any(isinstance(item, requests.exceptions.SSLError | ssl.SSLError) for item in chain):
        verify = next((item for item in chain if isinstance(item, ssl.SSLCertVerificationError)), None)
        detail = f": {verify.verify_message}" if verify and verify.verify_message else ""
        return (f"TLS verification of {host} failed{detail} (THANOS_CA_FILE names the CA bundle to trust; "
                "THANOS_VERIFY_TLS=false turns the check off)")
    if any(isinstance(item, NameResolutionError | socket.gaierror) for item in chain):
        return f"the DNS lookup of {host} failed (is the host name in THANOS_URL right, and is DNS reachable?)"
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return f"{address} refused the connection (nothing listens there: is THANOS_URL's port right?)"
    if any(isinstance(item, requests.exceptions.ConnectTimeout | TimeoutError | socket.timeout) for item in chain):
        return (f"no answer from {address} within {connect_timeout_seconds:g} s (a firewall dropping the connection, "
                "or a wrong address?)")
    return f"network error ({type(chain[-1]).__name__})"
