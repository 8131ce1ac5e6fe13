"""runbook.speak against real servers: Debian's php-fpm and uWSGI, plus small socket servers.

Every probe runs exactly as on a backend host: the command speak_on_host builds, through
`sh -c`, with the system python3 (PATH=/usr/bin:/bin), on loopback and in a temp dir only.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook.parsers.process import parse_curl_w
from runbook.speak import PROGRAM, speak_on_host

SYSTEM_PATH = "/usr/bin:/bin"
PLUGIN_DIR = "/usr/lib/uwsgi/plugins"


def probe(request: dict[str, Any], timeout: float = 5) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run speak_on_host's command as a remote shell would, and parse its stdout as the runner does."""
    command = speak_on_host(request, timeout)
    res = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout + 5,
        env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
    )
    return res, parse_curl_w(res.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(proc: subprocess.Popen[bytes], port: int, sock_path: Path, log: Path) -> None:
    """Until both the TCP port and the unix socket accept a connection (the server died: fail)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(sock_path))
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server not listening on 127.0.0.1:{port} and {sock_path} within 15s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --- php-fpm: one pool on 127.0.0.1:<port>, one on a unix socket

PHP_HEALTH = """<?php
header('Content-Type: application/json');
echo json_encode(['status' => 'ok', 'uri' => $_SERVER['REQUEST_URI'], 'query' => $_SERVER['QUERY_STRING'],
                  'method' => $_SERVER['REQUEST_METHOD'], 'script' => $_SERVER['SCRIPT_FILENAME'],
                  'host' => $_SERVER['HTTP_HOST']]);
"""
PHP_FAIL = """<?php
header('Status: 503 Service Unavailable');
echo "database down\\n";
"""
PHP_BIG = """<?php
echo str_repeat('x', 100 * 1024);
"""


@pytest.fixture(scope="module")
def php_fpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    binaries = sorted(glob.glob("/usr/sbin/php-fpm*"))
    if not binaries:
        pytest.skip("needs php-fpm (apt-get install php-fpm)")
    tmp = tmp_path_factory.mktemp("fpm")
    www = tmp / "www"
    www.mkdir()
    for name, text in {"health.php": PHP_HEALTH, "fail.php": PHP_FAIL, "big.php": PHP_BIG}.items():
        (www / name).write_text(text)
    port, sock = free_port(), tmp / "fpm.sock"
    pool = "user = {user}\npm = static\npm.max_children = 2\n"
    pool = pool.format(user=os.environ.get("USER") or ("root" if os.geteuid() == 0 else "nobody"))
    conf = tmp / "fpm.conf"
    conf.write_text(
        f"[global]\ndaemonize = no\nerror_log = {tmp}/fpm.log\npid = {tmp}/fpm.pid\n\n"
        f"[tcp]\nlisten = 127.0.0.1:{port}\n{pool}\n"
        f"[unix]\nlisten = {sock}\nlisten.mode = 0666\n{pool}"
    )
    cmd = [binaries[-1], "-F", "-n", "-y", str(conf), *(["-R"] if os.geteuid() == 0 else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(proc, port, sock, tmp / "fpm.log")
        yield {"tcp": f"127.0.0.1:{port}", "unix": f"unix:{sock}", "www": www}
    finally:
        stop(proc)


def test_php_fpm_health_over_tcp(php_fpm: dict[str, Any]) -> None:
    script = str(php_fpm["www"] / "health.php")
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["tcp"], "path": "/health?deep=1", "script": script})
    assert res.returncode == 0, res.stderr
    assert parsed["marker"] and parsed["http_code"] == 200
    assert parsed["remote"] == php_fpm["tcp"]
    assert 0 < parsed["connect_s"] <= parsed["ttfb_s"] <= parsed["total_s"] < 5
    body = json.loads(parsed["body"])
    assert body == {
        "status": "ok",
        "uri": "/health?deep=1",
        "query": "deep=1",
        "method": "GET",
        "script": script,
        "host": "localhost",
    }
    assert parsed["size"] == len(parsed["body"])


def test_php_fpm_status_header_gives_the_code(php_fpm: dict[str, Any]) -> None:
    script = str(php_fpm["www"] / "fail.php")
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["tcp"], "path": "/health", "script": script})
    assert res.returncode == 0, res.stderr  # like curl without -f: a 503 is still a valid response
    assert parsed["http_code"] == 503
    assert parsed["body"] == "database down\n"


def test_php_fpm_over_unix_socket(php_fpm: dict[str, Any]) -> None:
    script = str(php_fpm["www"] / "health.php")
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["unix"], "path": "/health", "script": script})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200 and json.loads(parsed["body"])["uri"] == "/health"
    assert parsed["remote"] == php_fpm["unix"]
    assert isinstance(parsed["total_s"], float)


def test_php_fpm_long_params_use_four_byte_lengths(php_fpm: dict[str, Any]) -> None:
    """A value of 128 bytes or more has a 4-byte length; php-fpm must read it back intact."""
    query = "q=" + "a" * 300
    script = str(php_fpm["www"] / "health.php")
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["tcp"], "path": f"/h?{query}", "script": script})
    assert res.returncode == 0, res.stderr
    assert json.loads(parsed["body"])["query"] == query


def test_php_fpm_without_script_uses_the_path(php_fpm: dict[str, Any]) -> None:
    """No script: SCRIPT_FILENAME is the path, which php-fpm cannot find -> its own 404, still a valid reply."""
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["tcp"], "path": "/nonexistent/health"})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 404
    assert "probe: backend stderr: Primary script unknown" in res.stderr  # php-fpm's FCGI_STDERR, relayed


def test_php_fpm_body_kept_to_64k(php_fpm: dict[str, Any]) -> None:
    script = str(php_fpm["www"] / "big.php")
    res, parsed = probe({"protocol": "fastcgi", "address": php_fpm["unix"], "path": "/big", "script": script})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200
    assert parsed["body"] == "x" * 65536
    assert parsed["size"] == 100 * 1024


# --- uWSGI: a tiny WSGI app on 127.0.0.1:<port> and on a unix socket

WSGI_APP = """
import json

def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/fail":
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"broken\\n"]
    body = json.dumps({"status": "ok", "path": path, "query": environ.get("QUERY_STRING", ""),
                       "uri": environ.get("REQUEST_URI", ""), "method": environ.get("REQUEST_METHOD", "")})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
"""


@pytest.fixture(scope="module")
def uwsgi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    binary = shutil.which("uwsgi")
    if binary is None or not glob.glob(f"{PLUGIN_DIR}/python3*_plugin.so"):
        pytest.skip("needs uWSGI with its Python 3 plugin (apt-get install uwsgi uwsgi-plugin-python3)")
    tmp = tmp_path_factory.mktemp("uwsgi")
    (tmp / "app.py").write_text(WSGI_APP)
    port, sock = free_port(), tmp / "uwsgi.sock"
    cmd = [binary, "--plugin-dir", PLUGIN_DIR, "--plugin", "python3", "--need-app", "--die-on-term"]
    cmd += ["--uwsgi-socket", f"127.0.0.1:{port}", "--uwsgi-socket", str(sock), "--chmod-socket=666"]
    cmd += ["--wsgi-file", str(tmp / "app.py"), "--processes", "1", "--logto", str(tmp / "uwsgi.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    try:
        wait_listening(proc, port, sock, tmp / "uwsgi.log")
        yield {"tcp": f"127.0.0.1:{port}", "unix": f"unix:{sock}"}
    finally:
        stop(proc)


def test_uwsgi_health_over_tcp(uwsgi: dict[str, str]) -> None:
    res, parsed = probe({"protocol": "uwsgi", "address": uwsgi["tcp"], "path": "/health?deep=1"})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200
    assert json.loads(parsed["body"]) == {
        "status": "ok",
        "path": "/health",
        "query": "deep=1",
        "uri": "/health?deep=1",
        "method": "GET",
    }
    assert parsed["remote"] == uwsgi["tcp"] and parsed["total_s"] is not None


def test_uwsgi_over_unix_socket(uwsgi: dict[str, str]) -> None:
    res, parsed = probe({"protocol": "uwsgi", "address": uwsgi["unix"], "path": "/health"})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200 and json.loads(parsed["body"])["path"] == "/health"


def test_uwsgi_app_error_gives_500(uwsgi: dict[str, str]) -> None:
    res, parsed = probe({"protocol": "uwsgi", "address": uwsgi["tcp"], "path": "/fail"})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 500 and parsed["body"] == "broken\n"


# --- failures, against small socket servers on 127.0.0.1


class Server:
    """A TCP listener on 127.0.0.1 whose every connection is handed to `handle` in a thread."""

    def __init__(self, handle: Callable[[socket.socket], None], family: int = socket.AF_INET) -> None:
        self.handle = handle
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(10)
            self.handle(conn)

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)
        self.listener.close()
        for conn in self.conns:
            conn.close()


@contextlib.contextmanager
def serving(handle: Callable[[socket.socket], None], family: int = socket.AF_INET) -> Iterator[Server]:
    server = Server(handle, family)
    try:
        yield server
    finally:
        server.close()


def silent(conn: socket.socket) -> None:
    """Accepts and never answers (reads until the client leaves)."""
    while conn.recv(65536):
        pass


def hang_up(conn: socket.socket) -> None:
    """Closes its side at once without a byte (a clean FIN), then drains what the client sent."""
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass


def reset(conn: socket.socket) -> None:
    """Aborts the connection: RST instead of FIN."""
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def sends(reply: bytes) -> Callable[[socket.socket], None]:
    """Answers any request with `reply` and keeps the connection open."""

    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(reply)
        while conn.recv(65536):
            pass

    return handle


@pytest.mark.parametrize("protocol", ["fastcgi", "uwsgi"])
def test_closed_port_is_refused(protocol: str) -> None:
    port = free_port()
    res, parsed = probe({"protocol": protocol, "address": f"127.0.0.1:{port}", "path": "/health"})
    assert res.returncode == 7
    assert f"probe: (7) Failed to connect to 127.0.0.1 port {port}: Connection refused" in res.stderr
    assert parsed["marker"] and parsed["http_code"] is None and parsed["remote"] is None


def test_missing_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "gone.sock"
    res, parsed = probe({"protocol": "fastcgi", "address": f"unix:{path}", "path": "/health"})
    assert res.returncode == 7
    assert f"probe: (7) Failed to connect to unix:{path}: No such file or directory" in res.stderr
    assert parsed["http_code"] is None


def test_unix_path_that_is_not_a_socket(tmp_path: Path) -> None:
    path = tmp_path / "plain-file"
    path.write_text("")
    res, _ = probe({"protocol": "uwsgi", "address": f"unix:{path}", "path": "/health"})
    assert res.returncode == 7 and "Connection refused" in res.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to run the probe as nobody")
def test_unix_socket_without_permission() -> None:
    """The probe as nobody, the socket in a root-only directory: refused with the reason."""
    with tempfile.TemporaryDirectory() as top, socket.socket(socket.AF_UNIX) as listener:
        Path(top).chmod(0o755)
        private = Path(top) / "private"
        private.mkdir(mode=0o700)
        listener.bind(str(private / "fpm.sock"))
        listener.listen(1)
        command = speak_on_host({"protocol": "fastcgi", "address": f"unix:{private}/fpm.sock", "path": "/h"}, 5)
        res = subprocess.run(
            [str(shutil.which("runuser")), "-u", "nobody", "--", "sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=10,
            env={"PATH": SYSTEM_PATH},
        )
    assert res.returncode == 7
    assert f"probe: (7) Failed to connect to unix:{private}/fpm.sock: Permission denied" in res.stderr


@pytest.mark.parametrize("protocol", ["fastcgi", "uwsgi"])
def test_listener_that_never_answers_times_out(protocol: str) -> None:
    with serving(silent) as server:
        t0 = time.monotonic()
        res, parsed = probe({"protocol": protocol, "address": f"127.0.0.1:{server.port}", "path": "/h"}, timeout=2)
        elapsed = time.monotonic() - t0
    assert res.returncode == 28, res.stderr
    assert "probe: (28) Operation timed out after" in res.stderr
    assert elapsed < 2 + 2
    assert parsed["http_code"] is None and parsed["total_s"] >= 1.0


@pytest.mark.parametrize("protocol", ["fastcgi", "uwsgi"])
def test_peer_that_hangs_up_is_an_empty_reply(protocol: str) -> None:
    with serving(hang_up) as server:
        res, parsed = probe({"protocol": protocol, "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 52, res.stderr
    assert "probe: (52) Empty reply from server" in res.stderr
    assert parsed["http_code"] is None


def test_reset_is_a_receive_failure() -> None:
    with serving(reset) as server:
        res, parsed = probe({"protocol": "fastcgi", "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 56, res.stderr
    assert "Connection reset by peer" in res.stderr
    assert parsed["http_code"] is None


def test_http_reply_to_fastcgi_is_not_fastcgi() -> None:
    with serving(sends(b"HTTP/1.1 200 OK\r\n\r\n")) as server:
        t0 = time.monotonic()
        res, parsed = probe({"protocol": "fastcgi", "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 8, res.stderr
    assert "probe: (8) the reply is not FastCGI (record version 72)" in res.stderr  # 72 is "H"
    assert parsed["http_code"] is None
    assert time.monotonic() - t0 < 3  # known at once, not at the timeout


@pytest.mark.parametrize("reply", [b"SSH-2.0-OpenSSH_9.2\r\n", b"\x01\x06\x00\x01\x00\x05\x03\x00hello"])
def test_garbage_reply_to_uwsgi_is_not_http(reply: bytes) -> None:
    with serving(sends(reply)) as server:
        t0 = time.monotonic()
        res, parsed = probe({"protocol": "uwsgi", "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 8, res.stderr
    assert "probe: (8) the reply is not HTTP" in res.stderr
    assert parsed["http_code"] is None
    assert time.monotonic() - t0 < 3


def test_cgi_reply_without_headers_is_invalid() -> None:
    """Valid FastCGI records whose STDOUT is not a CGI response: no code, exit 8."""
    out = b"just text, no headers"
    records = struct.pack(">BBHHBx", 1, 6, 1, len(out), 0) + out
    records += struct.pack(">BBHHBx", 1, 3, 1, 8, 0) + bytes(8)
    with serving(sends(records)) as server:
        res, parsed = probe({"protocol": "fastcgi", "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 8, res.stderr
    assert parsed["http_code"] is None


def fastcgi_records(stdout_parts: list[bytes], stderr: bytes = b"") -> bytes:
    """A FastCGI reply: STDOUT records with padding, a STDERR record, END_REQUEST."""
    data = b""
    for part in stdout_parts:
        pad = -len(part) % 8
        data += struct.pack(">BBHHBx", 1, 6, 1, len(part), pad) + part + b"\0" * pad
    if stderr:
        data += struct.pack(">BBHHBx", 1, 7, 1, len(stderr), 0) + stderr
    return data + struct.pack(">BBHHBx", 1, 3, 1, 8, 0) + bytes(8)


def test_fastcgi_padding_split_stdout_and_stderr_records() -> None:
    reply = fastcgi_records([b"Content-Type: text/plain\r\n", b"\r\nhello ", b"world"], stderr=b"PHP Warning: x")
    with serving(sends(reply)) as server:
        res, parsed = probe({"protocol": "fastcgi", "address": f"127.0.0.1:{server.port}", "path": "/h"})
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200 and parsed["body"] == "hello world"
    assert "probe: backend stderr: PHP Warning: x" in res.stderr


def read_fastcgi_request(conn: socket.socket) -> list[tuple[int, int, bytes]]:
    """(type, request id, content) of each record up to the empty STDIN that ends a request."""
    data, records = b"", list[tuple[int, int, bytes]]()
    while True:
        while len(data) < 8 or len(data) < 8 + sum(struct.unpack(">HB", data[4:7])):
            chunk = conn.recv(65536)
            if not chunk:
                return records
            data += chunk
        version, kind, rid, size, pad = struct.unpack(">BBHHBx", data[:8])
        assert version == 1
        records.append((kind, rid, data[8 : 8 + size]))
        data = data[8 + size + pad :]
        if kind == 5 and size == 0:
            return records


def fastcgi_params(stream: bytes) -> dict[str, str]:
    """FCGI_PARAMS name-value pairs by the spec: each length 1 byte, or 4 with the high bit set."""
    out, i = {}, 0

    def length() -> int:
        nonlocal i
        if stream[i] < 128:
            i += 1
            return stream[i - 1]
        i += 4
        return int(struct.unpack(">I", stream[i - 4 : i])[0]) & 0x7FFFFFFF

    while i < len(stream):
        n, m = length(), length()
        out[stream[i : i + n].decode()] = stream[i + n : i + n + m].decode()
        i += n + m
    return out


def test_fastcgi_request_records_by_the_spec() -> None:
    """BEGIN_REQUEST as a RESPONDER without keep-conn, PARAMS, an empty PARAMS, an empty STDIN."""
    seen: list[list[tuple[int, int, bytes]]] = []

    def handle(conn: socket.socket) -> None:
        seen.append(read_fastcgi_request(conn))
        conn.sendall(fastcgi_records([b"Status: 204 No Content\r\n\r\n"]))

    path = "/api/health?" + "k=" + "v" * 200
    with serving(handle) as server:
        res, parsed = probe(
            {"protocol": "fastcgi", "address": f"127.0.0.1:{server.port}", "path": path, "script": "/srv/www/api.php"}
        )
    assert res.returncode == 0 and parsed["http_code"] == 204 and parsed["body"] == "", res.stderr
    records = seen[0]
    assert {rid for _, rid, _ in records} == {1}
    kinds = [kind for kind, _, _ in records]
    assert kinds[0] == 1 and kinds[-2:] == [4, 5] and set(kinds[1:-2]) == {4}
    role, flags = struct.unpack(">HB5x", records[0][2])
    assert (role, flags) == (1, 0)  # FCGI_RESPONDER, keep-conn off
    assert records[-2][2] == b"" and records[-1][2] == b""
    params = fastcgi_params(b"".join(content for kind, _, content in records if kind == 4))
    assert params["SCRIPT_FILENAME"] == "/srv/www/api.php"
    assert params["SCRIPT_NAME"] == params["DOCUMENT_URI"] == "/api/health"
    assert params["REQUEST_URI"] == path and params["QUERY_STRING"] == path.partition("?")[2]
    expected = {"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    expected |= {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"}
    assert expected.items() <= params.items()
    assert {"SERVER_NAME", "SERVER_ADDR", "SERVER_PORT"} <= params.keys()


def uwsgi_vars(packet: bytes) -> dict[str, str]:
    """The uwsgi packet decoded by its spec (modifier1, le16 size, modifier2, le16-prefixed keys and values)."""
    modifier1, size, modifier2 = struct.unpack("<BHB", packet[:4])
    assert (modifier1, modifier2) == (0, 0) and len(packet) == 4 + size
    out, i = {}, 4
    while i < len(packet):
        (n,) = struct.unpack("<H", packet[i : i + 2])
        key = packet[i + 2 : i + 2 + n].decode()
        i += 2 + n
        (n,) = struct.unpack("<H", packet[i : i + 2])
        out[key] = packet[i + 2 : i + 2 + n].decode()
        i += 2 + n
    return out


def capture_uwsgi(seen: list[bytes]) -> Callable[[socket.socket], None]:
    """Keeps the uwsgi packet it got and answers 200 with a Content-Length, without closing."""

    def handle(conn: socket.socket) -> None:
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack("<H", data[1:3])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        seen.append(data)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        while conn.recv(65536):
            pass

    return handle


def test_uwsgi_packet_and_hostile_path_stay_one_argument(tmp_path: Path) -> None:
    """A path with a quote, $(...) and backticks reaches the backend byte for byte and runs nothing."""
    marker = tmp_path / "pwned"
    path = f"/h'x\"$(touch {marker})`touch {marker}`;touch {marker}?a=1&b='2'"
    seen: list[bytes] = []
    with serving(capture_uwsgi(seen)) as server:
        t0 = time.monotonic()
        res, parsed = probe({"protocol": "uwsgi", "address": f"127.0.0.1:{server.port}", "path": path}, timeout=10)
    assert res.returncode == 0, res.stderr
    assert time.monotonic() - t0 < 5  # Content-Length was enough; it did not wait for a close
    assert parsed["http_code"] == 200 and parsed["body"] == "ok"
    assert not marker.exists()
    env = uwsgi_vars(seen[0])
    assert env["REQUEST_URI"] == path
    assert env["PATH_INFO"] == path.partition("?")[0] and env["QUERY_STRING"] == "a=1&b='2'"
    assert env["REQUEST_METHOD"] == "GET" and env["HTTP_HOST"] == "localhost"


def test_ipv6_address_in_brackets() -> None:
    try:
        server = Server(capture_uwsgi([]), socket.AF_INET6)
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            pytest.skip("no IPv6 loopback here")
        raise
    try:
        res, parsed = probe({"protocol": "uwsgi", "address": f"[::1]:{server.port}", "path": "/h"})
    finally:
        server.close()
    assert res.returncode == 0, res.stderr
    assert parsed["http_code"] == 200 and parsed["remote"] == f"::1:{server.port}"


# --- speak_on_host itself


@pytest.mark.parametrize(
    "request_",
    [
        {"protocol": "http", "address": "127.0.0.1:80", "path": "/"},
        {"protocol": "FastCGI", "address": "127.0.0.1:80", "path": "/"},
        {"address": "127.0.0.1:80", "path": "/"},
    ],
)
def test_unknown_protocol_is_refused(request_: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="protocol"):
        speak_on_host(request_, 5)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:70000",
        "host:port",
        ":9000",
        "::1:9000",
        "[nope]:9000",
        "unix:relative.sock",
        "unix:",
        "a b:80",
        "$(id):80",
        "",
    ],
)
def test_bad_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        speak_on_host({"protocol": "fastcgi", "address": address, "path": "/"}, 5)


def test_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="path"):
        speak_on_host({"protocol": "uwsgi", "address": "127.0.0.1:80", "path": "health"}, 5)


def test_command_shape_and_timeout() -> None:
    command = speak_on_host(
        {"protocol": "fastcgi", "address": "unix:/run/php/fpm.sock", "path": "/health", "script": "/srv/www/api.php"},
        10,
    )
    assert command.startswith("python3 -c '")
    assert command.endswith("' fastcgi unix:/run/php/fpm.sock /health 9 /srv/www/api.php")
    # the probe gives up a second before the step, never below one second
    assert speak_on_host({"protocol": "uwsgi", "address": "h:1", "path": "/"}, 1.5).endswith(" / 1")


def test_bad_arguments_exit_2() -> None:
    res = subprocess.run(
        ["/usr/bin/python3", "-c", PROGRAM, "gopher", "127.0.0.1:1", "/", "1"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert res.returncode == 2 and res.stderr.startswith("probe: (2) usage:") and res.stdout == ""


def test_program_runs_on_python37() -> None:
    """It runs on whatever python3 the backend has: 3.7 syntax, and no single quote to escape."""
    ast.parse(PROGRAM, feature_version=(3, 7))
    assert "'" not in PROGRAM
    tree = ast.parse(PROGRAM)
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    assert imports <= {"re", "socket", "struct", "sys", "time"}  # the standard library only
