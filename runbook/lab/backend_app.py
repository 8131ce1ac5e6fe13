"""The lab backend: a small HTTP service whose misbehaviour a control file switches.

Runs inside a lab host as `python3 app.py --control /run/app/control.json --port 8080`
(stdlib only: the lab hosts share the system Python, not the project's virtualenv). The
process names itself `app` so `pgrep -x app` finds it, as the inventory's `service: app`
expects on hosts without systemd.

The control file is JSON, re-read on every request so a fault switches instantly:
  {"mode": "healthy"}                 200 with JSON
  {"mode": "crash"}                   accept, read the request, close without answering
  {"mode": "slow", "delay": 8}        answer after `delay` seconds (longer than the gateway waits)
  {"mode": "malformed"}               a status line followed by invalid header lines
  {"mode": "own-502"}                 the API answers 502 itself (a dependency behind it is down);
                                      /health, which checks only the process, answers 200
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODES = ("healthy", "crash", "slow", "malformed", "own-502")
DEFAULT_SLOW_DELAY = 8.0
PR_SET_NAME = 15

log = logging.getLogger("app")

USERS = [
    {"id": 1, "name": "Ada Lovelace"},
    {"id": 2, "name": "Grace Hopper"},
    {"id": 3, "name": "Margaret Hamilton"},
]


def set_process_name(name: str) -> None:
    """Set the kernel's comm (what `pgrep -x` and `ps -C` match) for this process."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the name is cosmetic
        pass


def read_control(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"mode": "healthy"}
    return data if isinstance(data, dict) and data.get("mode") in MODES else {"mode": "healthy"}


class AppServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # a burst of gateway retries must not be refused by a short listen backlog
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], control: Path, hostname: str):
        super().__init__(address, Handler)
        self.control = control
        self.hostname = hostname
        self.started = time.time()
        self.inflight = 0
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # the gateway gave up before we answered (its read timeout): say so in one line,
        # as the backend's own view of a 504
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            log.warning("client %s went away before the answer (%s)", client_address[0], exc)
        else:
            log.error("error handling a request from %s", client_address[0], exc_info=exc)


class Handler(BaseHTTPRequestHandler):
    server: AppServer
    server_version = "lab-app/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.client_address[0], format % args)

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.inflight += 1
            inflight = self.server.inflight
        started = time.monotonic()
        try:
            self._handle(inflight)
        finally:
            with self.server.lock:
                self.server.inflight -= 1
            took = time.monotonic() - started
            if took > 1.0:
                log.warning("slow request %s took %.1fs (%d in flight)", self.path, took, inflight)

    def _handle(self, inflight: int) -> None:
        control = read_control(self.server.control)
        mode = control["mode"]
        path = self.path.split("?", 1)[0]
        if mode == "crash":
            # what a worker dying mid-request looks like: the request was read, no reply
            try:
                raise RuntimeError(f"worker crashed while handling GET {path}")
            except RuntimeError:
                log.error("unhandled exception\n%s", traceback.format_exc().rstrip())
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "slow":
            time.sleep(float(control.get("delay", DEFAULT_SLOW_DELAY)))
        if path == "/health":
            body = {
                "status": "ok",
                "host": self.server.hostname,
                "uptime_s": round(time.time() - self.server.started, 1),
                "inflight": inflight,
            }
            status = 200
        elif path in ("/api/users", "/api/users/") and mode == "own-502":
            log.error("GET %s: the users service behind this app does not answer; 502", path)
            body = {"error": "bad gateway: users-db did not answer", "served_by": self.server.hostname}
            status = 502
        elif path in ("/api/users", "/api/users/"):
            body = {"users": USERS, "served_by": self.server.hostname}
            status = 200
        else:
            body = {"error": "not found", "path": path}
            status = 404
        payload = (json.dumps(body) + "\n").encode()
        if mode == "malformed":
            # a buggy serializer: header names with spaces and a line without a colon
            raw = (
                b"HTTP/1.1 200 OK\r\n"
                b"Content-Type: application/json\r\n"
                b"X-Request Trace: \x01broken\r\n"
                b"this is not a header\r\n"
                b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
            )
            self.wfile.write(raw)
            self.close_connection = True
            log.info("%s GET %s 200 (serializer v2)", self.client_address[0], path)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_HEAD = do_GET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--control", type=Path, default=Path("/run/app/control.json"))
    parser.add_argument("--name", default="app", help="process name for pgrep -x")
    args = parser.parse_args(argv)
    set_process_name(args.name)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s app[%(process)d]: %(message)s",
    )
    hostname = socket.gethostname()
    server = AppServer((args.bind, args.port), args.control, hostname)
    log.info("listening on %s:%d (pid %d)", args.bind, args.port, os.getpid())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    import signal

    # the supervisor stops services with SIGTERM; exit cleanly and log it
    def _term(signum: int, frame: object) -> None:
        log.info("received SIGTERM, shutting down")
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    sys.exit(main())
