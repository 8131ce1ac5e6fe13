"""Checks from the runner: http (httpx, with a bounded probe), tcp connect, against real servers on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runbook.checks.http import MAX_REQUESTS, probe
from runbook.checks.tcp import connect


class Handler(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        Handler.hits += 1
        # the sixth request and later fail, like a backend past its capacity
        status = 200 if Handler.hits <= 5 else 502
        body = b"ok" if status == 200 else b"bad gateway"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.hits = 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/api"
    srv.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_single_request(server: str) -> None:
    data, text = await probe({"url": server, "method": "GET"}, 5)
    assert data["http_code"] == 200 and text.startswith("HTTP 200")


async def test_probe_reports_when_errors_begin(server: str) -> None:
    data, text = await probe({"url": server, "method": "GET", "count": 12, "concurrency": 1}, 5)
    assert data["requests"] == 12
    assert data["first_failure_at"] == 6
    assert data["codes"] == {"200": 5, "502": 7}
    assert "first 5xx/failed response at request #6" in text


async def test_probe_stops_on_and_is_bounded(server: str) -> None:
    data, _ = await probe({"url": server, "method": "GET", "count": 10_000, "concurrency": 1, "stop_on": [502]}, 5)
    assert data["requests"] == 6
    assert MAX_REQUESTS <= 500


async def test_refused_http_is_a_result_not_an_exception() -> None:
    data, text = await probe({"url": f"http://127.0.0.1:{free_port()}/", "method": "GET"}, 2)
    assert data["http_code"] is None and "connect" in data["error"]
    assert text.startswith("no HTTP response")


async def test_tcp_open_and_refused() -> None:
    listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    data, _ = await connect({"host": "127.0.0.1", "port": port}, 2)
    assert data["state"] == "open"
    listener.close()
    await listener.wait_closed()
    data, text = await connect({"host": "127.0.0.1", "port": free_port()}, 2)
    assert data["state"] == "refused" and "refused" in text
