"""The paramiko transport: same contract as asyncssh, blocking calls kept in worker threads.

paramiko.SSHClient is not used: its host-key policies cannot tell "unknown" from "changed"
before authentication, so the Transport is driven directly and keys are checked by
`SSHTransportBase._check_host_key` right after the key exchange.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST

from runbook.inventory.ssh_config import Endpoint
from runbook.transports import known_hosts
from runbook.transports._ssh import (
    Conn,
    Dropped,
    Lost,
    Refused,
    SSHTransportBase,
    Stream,
    auth_message,
    known_hosts_files,
)
from runbook.transports.base import ErrorKind, OutputCallback, TransportError

# paramiko logs handshake failures at ERROR; keep them off the terminal (they become findings).
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

_RSA_ALGS = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


@dataclass
class _Chan:
    chan: paramiko.Channel
    out: Stream
    err: Stream
    stop: threading.Event
    pump: concurrent.futures.Future | None = None


def _key_base_type(alg: str) -> str:
    return "ssh-rsa" if alg in _RSA_ALGS else alg


class ParamikoTransport(SSHTransportBase):
    name = "paramiko"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # one thread per running command's reader, so size for a wide fan-out
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="runbook-paramiko")

    async def _thread(self, fn: Callable[..., Any], *args: Any, cleanup: Callable | None = None):
        cf = self._pool.submit(fn, *args)
        try:
            return await asyncio.wrap_future(cf)
        except asyncio.CancelledError:
            if cleanup is not None:
                # the thread may still succeed after we gave up: undo what it made
                def undo(f: concurrent.futures.Future) -> None:
                    if not f.cancelled() and f.exception() is None:
                        with contextlib.suppress(Exception):
                            cleanup(f.result())

                cf.add_done_callback(undo)
            raise

    def _emitter(self, on_output: OutputCallback | None) -> Callable[[str, str], None] | None:
        if on_output is None:
            return None
        loop = asyncio.get_running_loop()

        def emit(stream: str, text: str) -> None:
            # FIFO with the pump's completion, so every chunk is delivered before run() returns
            loop.call_soon_threadsafe(on_output, stream, text)

        return emit

    # --- connecting ------------------------------------------------------------------------

    async def _handshake(self, ep: Endpoint, tunnel: Conn | None) -> Any:
        box: dict[str, Any] = {}
        try:
            return await self._thread(self._handshake_sync, ep, tunnel, box, cleanup=_close)
        except asyncio.CancelledError:
            box["abandoned"] = True
            if "t" in box:
                box["t"].close()
            raise

    def _handshake_sync(self, ep: Endpoint, tunnel: Conn | None, box: dict[str, Any]) -> Any:
        timeout = ep.connect_timeout
        sock: Any
        if tunnel is not None:
            try:
                sock = tunnel.raw.open_channel(
                    "direct-tcpip", (ep.hostname, ep.port), ("127.0.0.1", 0), timeout=timeout
                )
            except paramiko.ChannelException as exc:
                raise TransportError(
                    ErrorKind.UNREACHABLE,
                    f"{ep.describe()}: the jump host {tunnel.endpoint.describe()} could not connect: {exc.text}",
                ) from exc
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise Dropped(f"jump host connection failed: {exc}") from exc
        elif ep.proxy_command:
            import shlex

            try:
                sock = paramiko.ProxyCommand("/bin/sh -c " + shlex.quote("exec " + ep.proxy_command))
            except paramiko.ProxyCommandFailure as exc:
                raise TransportError(ErrorKind.UNREACHABLE, f"{ep.describe()}: ProxyCommand failed: {exc}") from exc
        else:
            try:
                sock = socket.create_connection((ep.hostname, ep.port), timeout=timeout)
            except socket.gaierror as exc:
                raise TransportError(
                    ErrorKind.UNREACHABLE,
                    f"{ep.describe()}: name does not resolve ({exc.strerror})",
                ) from exc
            except ConnectionRefusedError as exc:
                raise TransportError(ErrorKind.UNREACHABLE, f"{ep.describe()}: connection refused") from exc
            except TimeoutError as exc:
                raise TransportError(ErrorKind.TIMEOUT, f"connecting to {ep.describe()} timed out") from exc
            except OSError as exc:
                raise TransportError(ErrorKind.UNREACHABLE, f"{ep.describe()}: {exc.strerror or exc}") from exc
        t = paramiko.Transport(sock)
        box["t"] = t
        try:
            return self._start(t, ep)
        except BaseException:
            t.close()
            raise
        finally:
            if box.get("abandoned"):
                t.close()

    def _start(self, t: paramiko.Transport, ep: Endpoint) -> paramiko.Transport:
        timeout = ep.connect_timeout
        t.banner_timeout = timeout
        t.handshake_timeout = timeout
        t.auth_timeout = timeout
        # offer first the key types known_hosts holds, as OpenSSH does, so a host with only an
        # RSA entry is not asked for its ed25519 key and then called "unknown"
        known = set(known_hosts.known_types(known_hosts_files(ep), ep.hostname, ep.port))
        opts = t.get_security_options()
        types = list(opts.key_types)
        first = [a for a in types if _key_base_type(a) in known]
        opts.key_types = tuple(first + [a for a in types if a not in first])
        try:
            t.start_client(timeout=timeout)
        except (EOFError, ConnectionResetError, BrokenPipeError) as exc:
            raise Dropped(str(exc) or type(exc).__name__) from exc
        except paramiko.SSHException as exc:
            text = str(exc)
            if "banner" in text or "reset" in text.lower() or "EOF" in text:
                raise Dropped(text) from exc
            raise TransportError(ErrorKind.OTHER, f"{ep.describe()}: SSH: {text}") from exc
        key = t.get_remote_server_key()
        self._check_host_key(ep, key.get_name(), key.asbytes())
        self._authenticate(t, ep)
        if self.keepalive_interval:
            t.set_keepalive(max(1, int(self.keepalive_interval)))
        return t

    def _authenticate(self, t: paramiko.Transport, ep: Endpoint) -> None:
        keys: list[paramiko.PKey] = []
        if ep.identity_files:
            for path in ep.identity_files:
                if not Path(path).is_file():
                    raise TransportError(ErrorKind.AUTH, f"{ep.describe()}: identity file {path} does not exist")
                try:
                    keys.append(paramiko.PKey.from_path(path))
                except (paramiko.SSHException, OSError, ValueError) as exc:
                    raise TransportError(
                        ErrorKind.AUTH, f"{ep.describe()}: cannot load identity file {path}: {exc}"
                    ) from exc
        else:
            for name in _DEFAULT_KEYS:
                default = Path("~/.ssh", name).expanduser()
                if default.is_file():
                    with contextlib.suppress(Exception):  # encrypted or odd default keys
                        keys.append(paramiko.PKey.from_path(default))
        if os.environ.get("SSH_AUTH_SOCK"):
            with contextlib.suppress(Exception):
                keys.extend(paramiko.Agent().get_keys())
        for key in keys:
            try:
                t.auth_publickey(ep.user, key)
            except paramiko.AuthenticationException:
                continue
            except paramiko.SSHException as exc:
                raise Dropped(f"during authentication: {exc}") from exc
            if t.is_authenticated():
                return
        password = os.environ.get(ep.password_env) if ep.password_env else None
        if password:
            with contextlib.suppress(paramiko.AuthenticationException):
                t.auth_password(ep.user, password)
            if t.is_authenticated():
                return
        raise TransportError(ErrorKind.AUTH, auth_message(ep, password))

    def _alive(self, conn: Conn) -> bool:
        return conn.raw.is_active()

    async def _close_raw(self, conn: Conn) -> None:
        await self._thread(conn.raw.close)

    async def close(self) -> None:
        await super().close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- commands --------------------------------------------------------------------------

    async def _open_session(self, conn: Conn, command: str, out: Stream, err: Stream, stdin: str | None) -> Any:
        t: paramiko.Transport = conn.raw

        def open_sync() -> _Chan:
            try:
                chan = t.open_session(timeout=conn.endpoint.connect_timeout)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                # paramiko keeps one "saved exception" per transport, so a concurrent open may
                # see a bare "Unable to open channel." instead of its ChannelException
                if not t.is_active():
                    raise Lost(str(exc)) from exc
                raise Refused(str(exc)) from exc
            try:
                chan.exec_command(command)
                if stdin:
                    chan.sendall(stdin.encode())
                chan.shutdown_write()
            except (paramiko.SSHException, EOFError, OSError) as exc:
                chan.close()
                if not t.is_active():
                    raise Lost(str(exc)) from exc
                raise TransportError(ErrorKind.CHANNEL, f"{conn.endpoint.describe()}: exec refused: {exc}") from exc
            return _Chan(chan, out, err, threading.Event())

        return await self._thread(open_sync, cleanup=lambda c: c.chan.close())

    async def _wait_exit(self, conn: Conn, chan: Any) -> int | None:
        c: _Chan = chan
        c.pump = self._pool.submit(_pump, c, conn.raw)
        return await asyncio.wrap_future(c.pump)

    async def _abort(self, conn: Conn, chan: Any) -> None:
        c: _Chan = chan
        c.stop.set()
        _send_signal(c.chan, "TERM")
        if c.pump is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await asyncio.wrap_future(c.pump)
        await self._thread(c.chan.close)

    async def _release_channel(self, conn: Conn, chan: Any) -> None:
        await self._thread(chan.chan.close)


def _pump(c: _Chan, t: paramiko.Transport) -> int | None:
    """Read both streams until EOF, then the exit status (OpenSSH may send it after EOF)."""
    chan = c.chan
    while not c.stop.is_set():
        busy = False
        while chan.recv_ready():
            c.out.feed(chan.recv(65536))
            busy = True
        while chan.recv_stderr_ready():
            c.err.feed(chan.recv_stderr(65536))
            busy = True
        if (chan.eof_received or chan.closed) and not (chan.recv_ready() or chan.recv_stderr_ready()):
            break
        if not busy:
            select.select([chan], [], [], 0.1)
    while not c.stop.is_set() and not chan.exit_status_ready():
        if chan.closed or not t.is_active():
            break
        chan.status_event.wait(0.1)
    if c.stop.is_set():
        return None
    if chan.exit_status_ready() and chan.exit_status >= 0:
        return chan.exit_status
    # closed without a status (paramiko reports -1): tell a dropped connection, which paramiko
    # notices a moment after the channel, from a command the server ended without one
    for _ in range(10):
        if not t.is_active():
            raise Lost("connection closed")
        time.sleep(0.1)
    return None


def _close(t: Any) -> None:
    t.close()


def _send_signal(chan: paramiko.Channel, name: str) -> None:
    """RFC 4254 6.9 "signal" request; paramiko has no API for it."""
    with contextlib.suppress(Exception):
        m = paramiko.Message()
        m.add_byte(cMSG_CHANNEL_REQUEST)
        m.add_int(chan.remote_chanid)
        m.add_string("signal")
        m.add_boolean(False)
        m.add_string(name)
        chan.transport._send_user_message(m)
