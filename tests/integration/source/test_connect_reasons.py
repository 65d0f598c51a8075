""""cannot connect to Thanos" says why: DNS failure, TLS verification, refused, timeout.

Each failure is real, on this machine: a name under the reserved .invalid domain, a closed port, an
HTTPS server with a self-signed certificate, and a listener whose accept queue is full (the kernel
drops further connection attempts, so the connect times out).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from etl.config import ThanosSettings
from etl.errors import ThanosError
from etl.source.thanos import ThanosClient


def ping_error(url: str, **settings: object) -> str:
    client = ThanosClient(ThanosSettings(url=url, retries=0, **settings))  # type: ignore[arg-type]
    with pytest.raises(ThanosError) as caught:
        client.ping()
    return str(caught.value)


def test_dns_failure() -> None:
    message = ping_error("http://thanos.no-such-name.invalid:9090")
    assert message.startswith("cannot connect to Thanos at http://thanos.no-such-name.invalid:9090: the DNS lookup "
                              "of thanos.no-such-name.invalid failed")


def test_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert f"127.0.0.1:{port} refused the connection" in ping_error(f"http://127.0.0.1:{port}")


def test_connect_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(3):  # fill the accept queue; nothing accepts
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        try:
            message = ping_error(f"http://127.0.0.1:{port}", connect_timeout_seconds=0.5)
        finally:
            for filler in fillers:
                filler.close()
    assert f"no answer from 127.0.0.1:{port} within 0.5 s" in message


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}|{cert}"
    server.shutdown()
    server.server_close()


def test_tls_verification_failure_then_trusting_the_ca(self_signed_server: str) -> None:
    url, cert = self_signed_server.split("|")
    message = ping_error(url)
    assert f"cannot connect to Thanos at {url}: TLS verification of 127.0.0.1 failed" in message
    assert "THANOS_CA_FILE" in message
    assert "self-signed certificate" in message  # what the check found, not only that it failed
    ThanosClient(ThanosSettings(url=url, retries=0, ca_file=cert)).ping()  # the hint works
