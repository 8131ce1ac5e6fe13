"""The default transport: asyncssh, one connection per host, commands as channels on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.public_key import get_public_key_algs

from runbook.inventory.ssh_config import Endpoint
from runbook.transports import known_hosts
from runbook.transports._ssh import (
    Conn,
    Dropped,
    HostKeyRejected,
    Lost,
    Refused,
    SSHTransportBase,
    Stream,
    auth_message,
    known_hosts_files,
)
from runbook.transports.base import ErrorKind, TransportError

# asyncssh logs connection details at INFO; without a handler, Python's last-resort handler
# would print warnings onto the TUI.
logging.getLogger("asyncssh").addHandler(logging.NullHandler())


class _Client(asyncssh.SSHClient):
    """Checks host keys with our known_hosts policy and notices a lost connection."""

    def __init__(self, transport: AsyncSSHTransport, ep: Endpoint):
        self._transport = transport
        self._ep = ep
        self.rejection: HostKeyRejected | None = None
        self.lost: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
        # only called for keys not already in the trusted list we passed
        try:
            self._transport._check_host_key(self._ep, key.get_algorithm(), key.public_data)
        except HostKeyRejected as rej:
            self.rejection = rej
            return False
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = str(exc) if exc else "connection closed"


class _Session(asyncssh.SSHClientSession):
    def __init__(self, out: Stream, err: Stream):
        self.out = out
        self.err = err
        self.done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.signal_status: int | None = None

    def data_received(self, data: bytes, datatype: Any) -> None:
        (self.err if datatype == asyncssh.EXTENDED_DATA_STDERR else self.out).feed(data)

    def exit_signal_received(self, signal_name: str, core: bool, msg: str, lang: str) -> None:
        try:
            self.signal_status = 128 + signal.Signals["SIG" + signal_name].value
        except KeyError:
            self.signal_status = 255

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(exc)


def host_key_algs(ep: Endpoint) -> list[str]:
    """Every plain host-key algorithm asyncssh knows, the ones of the key types known_hosts
    holds for this host first (as OpenSSH orders them), so a host is asked for the key we know."""
    known = set(known_hosts.known_types(known_hosts_files(ep), ep.hostname, ep.port))
    algs = [a.decode() for a in get_public_key_algs()]
    first = [a for a in algs if a in known or (a.startswith("rsa-sha2-") and "ssh-rsa" in known)]
    return first + [a for a in algs if a not in first]


class AsyncSSHTransport(SSHTransportBase):
    name = "asyncssh"

    async def _handshake(self, ep: Endpoint, tunnel: Conn | None) -> Any:
        client: _Client | None = None

        def factory() -> _Client:
            nonlocal client
            client = _Client(self, ep)
            return client

        options: dict[str, Any] = {
            "port": ep.port,
            "username": ep.user,
            # Every key goes through validate_host_public_key and so our own known_hosts policy
            # (known, changed, revoked, cert-authority): asyncssh given the trusted keys itself
            # would only offer their types and fail the key exchange on a host re-keyed to
            # another type, and would refuse a @revoked key with a message of its own.
            "known_hosts": ([], [], []),
            "server_host_key_algs": host_key_algs(ep),
            "config": None,  # ssh_config is resolved by runbook.inventory.ssh_config, for both transports
            "client_factory": factory,
            "keepalive_interval": self.keepalive_interval,
            "keepalive_count_max": 3,
            "ignore_encrypted": True,
            "login_timeout": ep.connect_timeout,
        }
        if tunnel is not None:
            options["tunnel"] = tunnel.raw
        elif ep.proxy_command:
            # as OpenSSH runs it: through the shell, exec'd
            options["proxy_command"] = ["/bin/sh", "-c", "exec " + ep.proxy_command]
        if ep.identity_files:
            for path in ep.identity_files:
                if not Path(path).is_file():
                    raise TransportError(ErrorKind.AUTH, f"{ep.describe()}: identity file {path} does not exist")
            options["client_keys"] = list(ep.identity_files)
        password = os.environ.get(ep.password_env) if ep.password_env else None
        if password:
            options["password"] = password
        try:
            conn = await asyncssh.connect(ep.hostname, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            if client is not None and client.rejection is not None:
                raise client.rejection from None
            raise TransportError(ErrorKind.HOSTKEY_UNKNOWN, f"{ep.describe()}: {exc}") from exc
        except asyncssh.PermissionDenied as exc:
            raise TransportError(ErrorKind.AUTH, auth_message(ep, password)) from exc
        except asyncssh.ChannelOpenError as exc:
            assert tunnel is not None
            raise TransportError(
                ErrorKind.UNREACHABLE,
                f"{ep.describe()}: the jump host {tunnel.endpoint.describe()} could not connect: {exc.reason}",
            ) from exc
        except socket.gaierror as exc:
            raise TransportError(
                ErrorKind.UNREACHABLE, f"{ep.describe()}: name does not resolve ({exc.strerror})"
            ) from exc
        except ConnectionRefusedError as exc:
            raise TransportError(ErrorKind.UNREACHABLE, f"{ep.describe()}: connection refused") from exc
        except (asyncssh.ConnectionLost, ConnectionResetError, BrokenPipeError) as exc:
            raise Dropped(str(exc) or type(exc).__name__) from exc
        except asyncssh.KeyExchangeFailed as exc:
            # not a busy server: the two sides share no algorithm (host-key types included);
            # retrying cannot help, and saying "sshd MaxStartups?" would mislead
            if client is not None and client.rejection is not None:
                raise client.rejection from None
            raise TransportError(
                ErrorKind.OTHER,
                f"{ep.describe()}: key exchange failed (no common host-key or kex algorithm?): {exc.reason}",
            ) from exc
        except asyncssh.DisconnectError as exc:
            if client is not None and client.rejection is not None:
                raise client.rejection from None  # we refused its host key; the server then hung up
            raise Dropped(exc.reason) from exc
        except OSError as exc:
            raise TransportError(ErrorKind.UNREACHABLE, f"{ep.describe()}: {exc.strerror or exc}") from exc
        except asyncssh.Error as exc:
            raise TransportError(ErrorKind.OTHER, f"{ep.describe()}: {exc.reason}") from exc
        conn.set_extra_info(runbook_client=client)
        return conn

    def _alive(self, conn: Conn) -> bool:
        client = conn.raw.get_extra_info("runbook_client")
        return client is None or client.lost is None

    async def _close_raw(self, conn: Conn) -> None:
        conn.raw.close()
        try:
            async with asyncio.timeout(2):
                await conn.raw.wait_closed()
        except TimeoutError:
            pass

    async def _open_session(self, conn: Conn, command: str, out: Stream, err: Stream, stdin: str | None) -> Any:
        try:
            chan, session = await conn.raw.create_session(lambda: _Session(out, err), command, encoding=None)
        except asyncssh.ChannelOpenError as exc:
            if not self._alive(conn):
                raise Lost(exc.reason) from exc
            raise Refused(exc.reason) from exc
        except (asyncssh.Error, OSError) as exc:
            raise Lost(str(exc)) from exc
        if stdin:
            chan.write(stdin.encode())
        chan.write_eof()
        return chan, session

    async def _wait_exit(self, conn: Conn, chan: Any) -> int | None:
        channel, session = chan
        exc = await session.done
        if exc is not None:
            raise Lost(str(exc))
        if session.signal_status is not None:
            return session.signal_status
        status = channel.get_exit_status()
        return None if status is None or status < 0 else status

    async def _abort(self, conn: Conn, chan: Any) -> None:
        channel, _ = chan
        with contextlib.suppress(Exception):  # already closing
            channel.send_signal("TERM")
        channel.close()
        await self._release_channel(conn, chan)

    async def _release_channel(self, conn: Conn, chan: Any) -> None:
        try:
            async with asyncio.timeout(2):
                await chan[0].wait_closed()
        except TimeoutError:
            pass
