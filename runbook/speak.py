"""Health checks that speak FastCGI or uwsgi to the backend, never HTTP.

php-fpm and uWSGI sockets do not speak HTTP: an HTTP GET to one gets an empty reply or a
reset, and the check would read a healthy backend as broken (curl's exit 52/56). So on the
backend host we run PROGRAM, a small stdlib-only Python 3 client (python3.7+, nothing to
install) that sends one GET in the backend's own protocol and prints what `curl -w
CURL_WRITE_OUT` prints, so `parse_curl_w` reads it unchanged: the body (64 KiB kept of at most
1 MiB read), then on a line of its own

    RBCURL code=NNN connect=S ttfb=S total=S dns=0.000000 size=BYTES remote=IP:PORT|unix:/path

with code=000 when there is no valid response. On stderr: `probe: (N) message` on failure, and
`probe: backend stderr: ...` for what a FastCGI server wrote to FCGI_STDERR. The exit status
follows curl's numbering, so the findings read it as they read curl's:

    0  a valid response (whatever its status)     28  timed out (connect or read)
    2  bad arguments                              52  the peer closed without a byte
    6  the host name does not resolve             56  connection reset / receive failure
    7  refused, or the socket file is missing     8   the reply is not FastCGI / not HTTP
       or not accessible (stderr says which)

    python3 -c PROGRAM fastcgi|uwsgi ADDRESS PATH TIMEOUT [SCRIPT]

ADDRESS is host:port, [v6]:port or unix:/path. SCRIPT (FastCGI only) is SCRIPT_FILENAME,
which php-fpm needs to be a real file; it defaults to PATH without its query string.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from runbook.safety import shell_quote

# Runs on the backend host: keep it python3.7-compatible (no walrus, no f-strings with `=`,
# no builtin generics) and free of single quotes, so its shell quoting stays readable.
PROGRAM = r"""
import re, socket, struct, sys, time

CAP, KEEP = 1 << 20, 64 << 10  # bytes read at most; body bytes printed at most
T0 = time.monotonic()
R = {"connect": 0.0, "ttfb": 0.0, "remote": ":0", "raw": b"", "err": b""}  # what the output reports


class Fail(Exception):
    pass  # args: (exit status as curl numbers it, message)


def secs():
    return time.monotonic() - T0


class Conn:
    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.got, self.buf = sock, deadline, 0, b""

    def io(self, op, arg):
        # op(arg) before the deadline; socket errors become curl exit statuses
        try:
            self.sock.settimeout(max(0.001, self.deadline - time.monotonic()))
            return op(arg)
        except socket.timeout:
            raise Fail(28, "Operation timed out after %d milliseconds with %d bytes received"
                       % (secs() * 1000, self.got))
        except OSError as e:
            what = "sending data to" if op == self.sock.sendall else "receiving data from"
            raise Fail(56, "Failure when %s the peer: %s" % (what, e.strerror or e))

    def more(self):
        # one recv into buf; False at the end of the stream or once CAP bytes were read
        data = self.io(self.sock.recv, 65536) if self.got < CAP else b""
        if data and not self.got:
            R["ttfb"] = secs()
        self.got += len(data)
        self.buf += data
        return bool(data)

    def take(self, n):
        # the next n bytes of FastCGI records; None when CAP stopped the reading
        while len(self.buf) < n:
            if not self.more():
                if self.got >= CAP:
                    return None
                if not self.got:
                    raise Fail(52, "Empty reply from server")
                raise Fail(56, "Failure when receiving data from the peer: closed before FCGI_END_REQUEST")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def connect(host, port, addr, deadline):
    if host is None:
        cands, name = [(socket.AF_UNIX, port)], addr
    else:
        name = "%s port %d" % (host, port)
        try:
            cands = [(a[0], a[4]) for a in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)]
        except socket.gaierror:
            raise Fail(6, "Could not resolve host: %s" % host)
    for family, where in cands:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            sock.connect(where)
        except socket.timeout:
            sock.close()
            raise Fail(28, "Connection timed out after %d milliseconds" % (secs() * 1000))
        except OSError as e:
            sock.close()
            err = e
            continue
        R["connect"] = secs()
        R["remote"] = addr if host is None else "%s:%d" % sock.getpeername()[:2]
        return sock
    raise Fail(7, "Failed to connect to %s: %s" % (name, err.strerror or err))


def env(path, script):
    # the CGI variables nginx sends (fastcgi_params, uwsgi_params) for a GET from localhost
    uri, _, query = path.partition("?")
    env = dict(REQUEST_METHOD="GET", REQUEST_URI=path, QUERY_STRING=query, SERVER_PROTOCOL="HTTP/1.1",
               REQUEST_SCHEME="http", SERVER_SOFTWARE="runbook-probe", SERVER_NAME="localhost",
               SERVER_ADDR="127.0.0.1", SERVER_PORT="80", REMOTE_ADDR="127.0.0.1", REMOTE_PORT="0",
               HTTP_HOST="localhost", HTTP_USER_AGENT="runbook-probe")
    if script is None:  # uwsgi: the WSGI app routes on PATH_INFO
        env.update(PATH_INFO=uri)
    else:  # FastCGI: php-fpm runs SCRIPT_FILENAME
        env.update(SCRIPT_FILENAME=script or uri, SCRIPT_NAME=uri, DOCUMENT_URI=uri, GATEWAY_INTERFACE="CGI/1.1",
                   DOCUMENT_ROOT=(script or uri).rpartition("/")[0] or "/")
    return [(k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in env.items()]


def fastcgi(conn, path, script):
    def record(kind, body):  # version 1, request id 1, no padding
        return struct.pack(">BBHHBx", 1, kind, 1, len(body), 0) + body

    def size(n):  # name-value lengths: 1 byte below 128, else 4 with the high bit set
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 1 << 31)

    pairs = b"".join(size(len(k)) + size(len(v)) + k + v for k, v in env(path, script))
    params = b"".join(record(4, pairs[i:i + 65535]) for i in range(0, len(pairs), 65535))
    # BEGIN_REQUEST (role RESPONDER, keep-conn off), PARAMS, empty PARAMS, empty STDIN
    conn.io(conn.sock.sendall, record(1, struct.pack(">HB5x", 1, 0)) + params + record(4, b"") + record(5, b""))
    while True:
        head = conn.take(8)
        if head is None:
            return
        version, kind, _, length, pad = struct.unpack(">BBHHBx", head)
        if version != 1:
            raise Fail(8, "the reply is not FastCGI (record version %d)" % version)
        if kind not in (3, 6, 7, 10, 11):
            raise Fail(8, "the reply is not FastCGI (record type %d)" % kind)
        body = conn.take(length + pad)
        if body is None:
            return
        if kind == 6:  # STDOUT
            R["raw"] += body[:length]
        elif kind == 7:  # STDERR
            R["err"] = (R["err"] + body[:length])[:2048]
        elif kind == 3:  # END_REQUEST: app status (4 bytes), protocol status
            if length >= 5 and body[4]:
                raise Fail(8, "the FastCGI server refused the request (protocol status %d)" % body[4])
            return


def uwsgi(conn, path, _script):
    pairs = b"".join(struct.pack("<H", len(x)) + x for kv in env(path, None) for x in kv)
    if len(pairs) > 65535:
        raise Fail(8, "the request does not fit in a uwsgi packet")
    conn.io(conn.sock.sendall, struct.pack("<BHB", 0, len(pairs), 0) + pairs)  # modifier1 0 (WSGI)
    parsed = None
    while conn.more():
        R["raw"] = conn.buf
        parsed = parsed or head(conn.buf, False)
        if parsed and parsed[2] is not None and len(conn.buf) - parsed[1] >= parsed[2]:
            return  # the whole body is here: no need to wait for the close
    if not conn.got:
        raise Fail(52, "Empty reply from server")


def head(raw, cgi):
    # (code, body offset, content length) of the response; None while its headers are incomplete.
    # uwsgi answers raw HTTP (status line); FastCGI a CGI response (Status header, else 200)
    m = None if cgi else re.match(rb"HTTP/\d\.\d (\d\d\d)[ \r\n]", raw)
    if not (cgi or m or b"HTTP/".startswith(raw[:5]) and b"\n" not in raw and len(raw) < 1024):
        raise Fail(8, "the reply is not HTTP (it starts %r)" % raw[:32])
    end = re.search(rb"\r?\n\r?\n", raw)
    if not end or not (cgi or m):
        return None
    code, moved, length = int(m.group(1)) if m else None, False, None
    for line in re.split(rb"\r?\n", raw[:end.start()])[0 if cgi else 1:]:
        name, sep, value = line.partition(b":")
        name = name.strip().lower()
        if cgi and (not sep or not name or b" " in name):
            raise Fail(8, "the FastCGI reply is not a CGI response (header %r)" % line[:40])
        if cgi and name == b"status":
            s = re.match(rb"\s*(\d\d\d)\b", value)
            if not s:
                raise Fail(8, "the CGI Status header is not a status (%r)" % value[:40])
            code = int(s.group(1))
        length = int(value) if name == b"content-length" and value.strip().isdigit() else length
        moved = moved or name == b"location"
    return (302 if moved else 200) if code is None else code, end.end(), length


def target(addr):
    # (host, port) or (None, socket path)
    if addr.startswith("unix:/"):
        return None, addr[5:]
    host, _, port = addr.rpartition(":")
    if host[:1] == "[" and host[-1:] == "]":
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(addr)
    return host, int(port)


def main(argv):
    try:
        proto, addr, path, limit = argv[1], argv[2], argv[3], float(argv[4])
        script, (host, port) = argv[5] if len(argv) > 5 else "", target(addr)
        if proto not in ("fastcgi", "uwsgi") or len(argv) > 6 or not 0 < limit <= 86400:
            raise ValueError(proto)
    except (IndexError, ValueError):
        sys.stderr.write("probe: (2) usage: python3 -c PROGRAM fastcgi|uwsgi "
                         "host:port|[v6]:port|unix:/path /path timeout [script]\n")
        return 2
    status, msg, sock, code, body = 0, "", None, 0, b""
    try:
        sock = connect(host, port, addr, T0 + limit)
        (fastcgi if proto == "fastcgi" else uwsgi)(Conn(sock, T0 + limit), path, script)
    except Fail as e:
        status, msg = e.args
    finally:
        if sock:
            sock.close()
    try:
        parsed = head(R["raw"], proto == "fastcgi") if R["raw"] else None
        if parsed:
            code, body = parsed[0], R["raw"][parsed[1]:]
        elif not status:
            raise Fail(8, "the reply ended inside its headers" if R["raw"] else "the FastCGI reply has no stdout")
    except Fail as e:
        status, msg = (status, msg) if status else e.args
    line = "\nRBCURL code=%03d connect=%.6f ttfb=%.6f total=%.6f dns=0.000000 size=%d remote=%s\n" % (
        code, R["connect"], R["ttfb"], secs(), len(body), R["remote"].replace(" ", "%20"))
    sys.stdout.buffer.write(body[:KEEP] + line.encode())
    sys.stdout.flush()
    for text in R["err"].decode("utf-8", "replace").splitlines()[:20]:
        sys.stderr.write("probe: backend stderr: %s\n" % text)
    if status:
        sys.stderr.write("probe: (%d) %s\n" % (status, msg))
    return status


sys.exit(main(sys.argv))
"""

PROTOCOLS = ("fastcgi", "uwsgi")
_HOST_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")


def _check_address(address: str) -> None:
    """host:port, [v6]:port or unix:/abs/path, else ValueError (what PROGRAM's own parsing accepts)."""
    if address.startswith("unix:"):
        if not address.startswith("unix:/") or "\0" in address:
            raise ValueError(f"a unix socket address needs an absolute path: {address!r}")
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address must be host:port, [v6]:port or unix:/path, not {address!r}")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"not an IPv6 address in brackets: {address!r}") from None
    elif not _HOST_RE.fullmatch(host):
        raise ValueError(f"not a host name or IPv4 address (write IPv6 as [addr]:port): {address!r}")


def speak_on_host(request: dict[str, Any], timeout: float) -> str:
    """The shell command that runs PROGRAM on the backend host for one FastCGI/uwsgi request.

    request: protocol ("fastcgi" or "uwsgi"), address, path (starting with /), optional script.
    The probe gives up a second before the step does (as curl_on_host's curl does), so its own
    timeout (exit 28) is what the step sees.
    """
    protocol = request.get("protocol")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    address, path = str(request.get("address", "")), str(request.get("path", ""))
    _check_address(address)
    if not path.startswith("/") or "\0" in path:
        raise ValueError(f"path must start with /: {path!r}")
    args = [protocol, address, path, f"{max(1.0, timeout - 1):g}"]
    if script := request.get("script"):
        if "\0" in str(script):
            raise ValueError(f"script path has a NUL byte: {script!r}")
        args.append(str(script))
    return " ".join(["python3", "-c", shell_quote(PROGRAM), *(shell_quote(a) for a in args)])
