"""What the asyncssh and paramiko transports share: connection cache, handshake and session
bounds, host-key policy, output collection and stopping a remote command.

The subclasses only supply the library calls (`_handshake`, `_open_session`, `_wait_exit`,
`_abort`...); every policy lives here so both transports behave identically.
"""

from __future__ import annotations

import abc
import asyncio
import codecs
import contextlib
import logging
import os
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runbook.inventory import Host
from runbook.inventory.ssh_config import Endpoint, HostResolver, SSHConfigError, SSHResolver
from runbook.transports import known_hosts
from runbook.transports.base import (
    DEFAULT_MAX_OUTPUT,
    CommandResult,
    ErrorKind,
    HostKeyPrompt,
    OutputBuffer,
    OutputCallback,
    Transport,
    TransportError,
)
from runbook.transports.known_hosts import KeyStatus

log = logging.getLogger("runbook.transports")

#: OpenSSH's default MaxSessions; lowered per connection when the server refuses a channel.
DEFAULT_MAX_SESSIONS = 10
#: How long to keep retrying a refused channel before giving up with ErrorKind.CHANNEL.
CHANNEL_RETRY_S = 30.0
#: Bound on the helper that kills a cancelled command's process group.
KILL_TIMEOUT_S = 5.0

# The remote shell is a session leader (sshd calls setsid() for non-pty sessions), so its pid
# is the process group of everything the command starts. It is printed first on stderr, and
# stripped there, so that a timeout or a cancel can kill the whole group, not just the shell.
PGID_MARK = b"\x1erunbook-pgid:"
_PGID_PRINT = "printf '\\036runbook-pgid:%s\\n' \"$$\" >&2\n"


def wrap_command(command: str) -> str:
    return _PGID_PRINT + command


def kill_script(pgid: int) -> str:
    """TERM the group (sudo relays TERM to its child; KILL would orphan it), then KILL."""
    if pgid < 2:  # never `kill -1`
        raise ValueError(f"refusing to signal process group {pgid}")
    return (
        f"kill -TERM -{pgid} 2>/dev/null || exit 0; i=0; "
        f"while kill -0 -{pgid} 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; "
        f"kill -KILL -{pgid} 2>/dev/null; exit 0"
    )


# --- internal signals between the base and the library code ---------------------------------


class Dropped(Exception):
    """The server closed the connection during the handshake (sshd MaxStartups): retry."""


class Refused(Exception):
    """The server refused a session channel (sshd MaxSessions): back off and queue."""


class Lost(Exception):
    """The connection is gone."""


class HostKeyRejected(Exception):
    def __init__(self, status: KeyStatus, keytype: str, blob: bytes, verdict: known_hosts.Verdict | None = None):
        super().__init__(f"host key {status}")
        self.status = status
        self.keytype = keytype
        self.blob = blob
        self.verdict = verdict


def known_hosts_files(ep: Endpoint) -> list[str]:
    """Every file OpenSSH reads for this endpoint: the user files (the first, where new keys go,
    leading), then the global ones. Missing files simply hold nothing."""
    user = [ep.known_hosts, *(f for f in ep.known_hosts_files if f != ep.known_hosts)]
    glob = [os.path.expanduser(f) for f in ep.global_known_hosts if f != "none"]
    return [*user, *(f for f in glob if f not in user)]


# --- bounds -------------------------------------------------------------------------------


class AdaptiveLimiter:
    """A semaphore whose limit drops to what the server showed it accepts."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # a slot was handed over as we were cancelled: give it back
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            raise

    def release(self) -> None:
        self.active -= 1
        self._wake()

    def shrink(self) -> None:
        """Called by a holder whose attempt was refused: the others are what the server takes."""
        self.limit = max(1, min(self.limit, self.active - 1))

    def _wake(self) -> None:
        while self._waiters and self.active < self.limit:
            fut = self._waiters.popleft()
            if not fut.done():
                self.active += 1
                fut.set_result(None)


# --- output -------------------------------------------------------------------------------


class Stream:
    """One output stream: incremental UTF-8 decoding (errors replaced), bounded, streamed."""

    def __init__(self, name: str, limit: int, emit: Callable[[str, str], None] | None, *, marker: bool):
        self.name = name
        self.buffer = OutputBuffer(limit)
        self.emit = emit
        self.raw_dropped = 0
        self.pgid: int | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: bytes | None = b"" if marker else None

    @property
    def dropped(self) -> int:
        return self.buffer.dropped + self.raw_dropped

    def feed(self, data: bytes) -> None:
        if self._pending is not None:
            data = self._strip_marker(data)
            if not data:
                return
        if self.buffer.size >= self.buffer.limit:
            self.raw_dropped += len(data)  # past the bound: count without decoding
            return
        self._add(self._decoder.decode(data))

    def close(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, None
            self.feed(pending)
        self._pending = None
        self._add(self._decoder.decode(b"", final=True))

    def _add(self, text: str) -> None:
        if not text:
            return
        kept = self.buffer.add(text)
        if kept and self.emit is not None:
            try:
                self.emit(self.name, kept)
            except Exception:  # a broken display must not break the command
                log.exception("on_output callback failed")

    def _strip_marker(self, data: bytes) -> bytes:
        pending = (self._pending or b"") + data
        if len(pending) < len(PGID_MARK) and PGID_MARK.startswith(pending):
            self._pending = pending
            return b""
        if not pending.startswith(PGID_MARK):
            self._pending = None
            return pending
        end = pending.find(b"\n")
        if end < 0 and len(pending) < 64:
            self._pending = pending
            return b""
        self._pending = None
        if end < 0:
            return pending
        m = re.fullmatch(rb"(\d+)", pending[len(PGID_MARK) : end])
        if m:
            self.pgid = int(m.group(1))
        return pending[end + 1 :]


# --- connections --------------------------------------------------------------------------


@dataclass
class Conn:
    raw: Any
    endpoint: Endpoint
    sessions: AdaptiveLimiter
    tunnel: Conn | None = None
    dead: str | None = None  # why, once the connection is known to be gone
    extra: dict[str, Any] = field(default_factory=dict)


_STATE_FOR = {
    ErrorKind.UNREACHABLE: "unreachable",
    ErrorKind.TIMEOUT: "unreachable",
    ErrorKind.AUTH: "auth-refused",
    ErrorKind.HOSTKEY_UNKNOWN: "key-unknown",
    ErrorKind.HOSTKEY_CHANGED: "key-changed",
    ErrorKind.DISCONNECTED: "disconnected",
}


class SSHTransportBase(Transport):
    name = "ssh"

    def __init__(
        self,
        *,
        accept_new_host_keys: bool = False,
        host_key_prompt: HostKeyPrompt | None = None,
        max_concurrent_handshakes: int = 8,
        keepalive_interval: float = 15,
        host_resolver: HostResolver | None = None,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        handshake_retries: int = 8,
    ):
        self.accept_new_host_keys = accept_new_host_keys
        self.host_key_prompt = host_key_prompt
        self.max_concurrent_handshakes = max_concurrent_handshakes
        self.keepalive_interval = keepalive_interval
        self.host_resolver = host_resolver
        self.max_sessions = max_sessions
        self.handshake_retries = handshake_retries
        self._conns: dict[Any, Conn] = {}
        self._pending: dict[Any, asyncio.Future[Conn]] = {}
        self._state: dict[str, str] = {}
        self._users: dict[str, str] = {}
        self._handshakes: dict[Any, AdaptiveLimiter] = {}
        self._trusted_once: dict[tuple[str, int], set[bytes]] = {}
        self._key_lock = threading.Lock()  # paramiko checks keys from worker threads
        self.ssh_config = SSHResolver()  # ssh -G answers, cached for this transport's session
        self._endpoints: dict[str, Endpoint] = {}
        self._resolving: dict[str, asyncio.Future[Endpoint]] = {}

    # --- library hooks ---------------------------------------------------------------------

    @abc.abstractmethod
    async def _handshake(self, ep: Endpoint, tunnel: Conn | None) -> Any:
        """Connect, verify the host key with `_check_host_key`, authenticate; return raw conn."""

    @abc.abstractmethod
    def _alive(self, conn: Conn) -> bool: ...

    @abc.abstractmethod
    async def _close_raw(self, conn: Conn) -> None: ...

    @abc.abstractmethod
    async def _open_session(self, conn: Conn, command: str, out: Stream, err: Stream, stdin: str | None) -> Any:
        """Open a session channel running `command`; raise Refused or Lost."""

    @abc.abstractmethod
    async def _wait_exit(self, conn: Conn, chan: Any) -> int | None:
        """Wait until the command exited and its output is all in; raise Lost."""

    @abc.abstractmethod
    async def _abort(self, conn: Conn, chan: Any) -> None:
        """Best effort: signal the command and close the channel."""

    @abc.abstractmethod
    async def _release_channel(self, conn: Conn, chan: Any) -> None:
        """Wait (briefly) until the server has the channel closed."""

    # --- public contract -----------------------------------------------------------------

    def needs_sudo(self, host: Host) -> bool:
        if host.sudo is not None:
            return host.sudo
        user = self._users.get(host.name)
        if user is None:
            try:
                user = self.endpoint(host).user
            except TransportError:
                return True
        return user != "root"

    def connection_state(self, host: Host) -> str:
        conn = self._conns.get(("host", host.name))
        if conn is not None and conn.dead is None and self._alive(conn):
            return "connected"
        return self._state.get(host.name, "idle")

    async def close(self) -> None:
        conns = list(self._conns.values())
        self._conns.clear()
        # targets first, then the jump hosts they tunnel through
        for conn in sorted(conns, key=lambda c: c.tunnel is None):
            with contextlib.suppress(Exception):
                await self._close_raw(conn)

    def endpoint(self, host: Host) -> Endpoint:
        try:
            ep = self.ssh_config.resolve_host(host, self.host_resolver)
        except SSHConfigError as exc:
            raise TransportError(ErrorKind.OTHER, f"{host.name}: {exc}") from exc
        self._users[host.name] = ep.user
        return ep

    async def _endpoint(self, host: Host) -> Endpoint:
        """`ssh -G` is a subprocess: resolve off the event loop, once per host per session."""
        key = host.model_dump_json()
        ep = self._endpoints.get(key)
        if ep is not None:
            return ep
        fut = self._resolving.get(key)
        if fut is None:  # one resolution per host however many steps ask at once
            fut = self._resolving[key] = asyncio.ensure_future(asyncio.to_thread(self.endpoint, host))

            def forget(_: asyncio.Future[Endpoint], key: str = key) -> None:
                self._resolving.pop(key, None)

            fut.add_done_callback(forget)
        ep = await asyncio.shield(fut)
        self._endpoints[key] = ep
        return ep

    async def run(
        self,
        host: Host,
        command: str,
        *,
        timeout: float,
        on_output: OutputCallback | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: str | None = None,
    ) -> CommandResult:
        started = time.monotonic()
        ep = await self._endpoint(host)
        key = ("host", host.name)
        reconnected: str | None = None
        old = self._conns.get(key)
        if old is not None and (old.dead or not self._alive(old)):
            reconnected = old.dead or "connection lost"
            self._conns.pop(key, None)
        for attempt in range(2):
            try:
                conn = await self._get(key, ep, host)
            except TransportError as exc:
                self._state[host.name] = _STATE_FOR.get(exc.kind, "error")
                raise
            self._state[host.name] = "connected"
            try:
                result = await self._execute(conn, command, timeout, on_output, max_output, stdin)
                break
            except Lost as exc:
                # the connection died before the command started: reopen once and go on
                conn.dead = str(exc) or "connection lost"
                self._conns.pop(key, None)
                with contextlib.suppress(Exception):
                    await self._close_raw(conn)
                if attempt:
                    self._state[host.name] = "disconnected"
                    raise TransportError(ErrorKind.DISCONNECTED, f"{ep.describe()}: connection lost: {exc}") from exc
                reconnected = conn.dead
        result.duration_s = time.monotonic() - started
        if reconnected:
            result.data["reconnected"] = f"the connection to {ep.describe()} was lost ({reconnected}) and reopened"
        return result

    # --- connections ---------------------------------------------------------------------

    async def _get(self, key: Any, ep: Endpoint, host: Host | None) -> Conn:
        conn = self._conns.get(key)
        if conn is not None and conn.dead is None and self._alive(conn):
            return conn
        fut = self._pending.get(key)
        if fut is None:
            if host is not None:
                self._state[host.name] = "connecting"
            fut = asyncio.ensure_future(self._connect(ep, host))
            self._pending[key] = fut

            def done(f: asyncio.Future[Conn], key: Any = key) -> None:
                self._pending.pop(key, None)
                if not f.cancelled() and f.exception() is None:
                    self._conns[key] = f.result()

            fut.add_done_callback(done)
        # shielded: one caller's cancel must not abort a connect others are waiting for
        return await asyncio.shield(fut)

    async def _connect(self, ep: Endpoint, host: Host | None) -> Conn:
        tunnel = None
        if ep.jump is not None:
            tunnel = await self._get(("jump", ep.jump.key), ep.jump, None)
        prompted = False
        server = (ep.hostname, ep.port, tunnel.endpoint.key if tunnel else None)
        limiter = self._handshakes.get(server)
        if limiter is None:
            limiter = self._handshakes[server] = AdaptiveLimiter(self.max_concurrent_handshakes)
        attempt = 0
        while True:
            rejected: HostKeyRejected | None = None
            await limiter.acquire()
            try:
                async with asyncio.timeout(ep.connect_timeout):
                    raw = await self._handshake(ep, tunnel)
                return Conn(raw, ep, AdaptiveLimiter(self.max_sessions), tunnel)
            except Dropped as exc:
                limiter.shrink()
                attempt += 1
                if attempt > self.handshake_retries:
                    raise TransportError(
                        ErrorKind.UNREACHABLE,
                        f"{ep.describe()} kept closing the connection during the handshake"
                        f" ({attempt} tries; sshd MaxStartups?): {exc}",
                    ) from exc
            except TimeoutError as exc:
                raise TransportError(
                    ErrorKind.TIMEOUT,
                    f"connecting to {ep.describe()} timed out after {ep.connect_timeout:g}s",
                ) from exc
            except HostKeyRejected as exc:
                if prompted or exc.status is not KeyStatus.UNKNOWN or not self.host_key_prompt:
                    raise self._hostkey_error(ep, exc) from None
                rejected = exc
            finally:
                limiter.release()
            if rejected is not None:
                # asked outside the handshake bound; the next try trusts the answer
                prompted = True
                await self._ask(ep, host, rejected)
                continue
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))

    async def _ask(self, ep: Endpoint, host: Host | None, rej: HostKeyRejected) -> None:
        assert self.host_key_prompt is not None
        fp = known_hosts.fingerprint(rej.blob)
        asked = host or Host(name=ep.name, address=ep.hostname, port=ep.port, user=ep.user)
        answer = await self.host_key_prompt(asked, fp)
        if answer not in ("trust-once", "trust-recorded"):
            raise self._hostkey_error(ep, rej)
        if answer == "trust-recorded":
            with self._key_lock:
                known_hosts.append(ep.known_hosts, ep.hostname, ep.port, rej.keytype, rej.blob)
        self._trusted_once.setdefault((ep.hostname, ep.port), set()).add(rej.blob)

    def _check_host_key(self, ep: Endpoint, keytype: str, blob: bytes) -> None:
        """Raise HostKeyRejected unless the key is known (or newly accepted and recorded)."""
        if blob in self._trusted_once.get((ep.hostname, ep.port), ()):
            return
        with self._key_lock:
            found = known_hosts.verdict(known_hosts_files(ep), ep.hostname, ep.port, keytype, blob)
            status = found.status
            if status is KeyStatus.KNOWN:
                return
            # StrictHostKeyChecking accept-new/no in ssh_config: record new keys as OpenSSH would
            # (a changed key is still refused, whatever the setting)
            accept = self.accept_new_host_keys or ep.strict_host_key_checking in ("accept-new", "false")
            if status is KeyStatus.UNKNOWN and accept:
                known_hosts.append(ep.known_hosts, ep.hostname, ep.port, keytype, blob)
                log.warning(
                    "recorded new host key for %s in %s: %s",
                    ep.describe(),
                    ep.known_hosts,
                    known_hosts.fingerprint(blob),
                )
                return
        raise HostKeyRejected(status, keytype, blob, found)

    def _hostkey_error(self, ep: Endpoint, rej: HostKeyRejected) -> TransportError:
        fp = known_hosts.fingerprint(rej.blob)
        where = f"{ep.hostname}:{ep.port}"
        files = known_hosts_files(ep)
        found = rej.verdict or known_hosts.verdict(files, ep.hostname, ep.port, rej.keytype, rej.blob)
        path = found.path or ep.known_hosts  # the file that holds the other key / the marker
        if rej.status is KeyStatus.CHANGED:
            entry = known_hosts.entry_name(ep.hostname, ep.port)
            known = list(found.known)
            if rej.keytype in known:
                msg = known_hosts.changed_message(ep.name, where, path, rej.keytype, fp, entry)
            else:
                msg = known_hosts.other_type_message(ep.name, where, path, known, rej.keytype, fp, entry)
            return TransportError(ErrorKind.HOSTKEY_CHANGED, msg, fingerprint=fp)
        if rej.status is KeyStatus.CERT_AUTHORITY:
            msg = known_hosts.cert_authority_message(ep.name, where, path, fp)
            return TransportError(ErrorKind.HOSTKEY_CHANGED, msg, fingerprint=fp)
        if rej.status is KeyStatus.REVOKED:
            msg = known_hosts.revoked_message(ep.name, where, path, fp)
            return TransportError(ErrorKind.HOSTKEY_CHANGED, msg, fingerprint=fp)
        msg = known_hosts.unknown_message(ep.name, where, ", ".join(files), fp)
        return TransportError(ErrorKind.HOSTKEY_UNKNOWN, msg, fingerprint=fp)

    # --- commands ------------------------------------------------------------------------

    async def _execute(
        self,
        conn: Conn,
        command: str,
        timeout: float,
        on_output: OutputCallback | None,
        max_output: int,
        stdin: str | None,
    ) -> CommandResult:
        out = Stream("stdout", max_output, self._emitter(on_output), marker=False)
        err = Stream("stderr", max_output, self._emitter(on_output), marker=True)
        chan = await self._open_channel(conn, wrap_command(command), out, err, stdin)
        timed_out = False
        status: int | None = None
        try:
            async with asyncio.timeout(timeout):
                status = await self._wait_exit(conn, chan)
        except TimeoutError:
            timed_out = True
            await self._stop(conn, chan, err.pgid)
        except asyncio.CancelledError:
            # finish stopping the remote command even if cancelled again meanwhile
            await asyncio.shield(self._stop(conn, chan, err.pgid))
            raise
        except Lost as exc:
            conn.dead = str(exc) or "connection lost"
            conn.sessions.release()
            raise TransportError(
                ErrorKind.DISCONNECTED,
                f"{conn.endpoint.describe()}: connection lost while the command ran: {exc}",
            ) from exc
        except Exception:
            await self._stop(conn, chan, err.pgid)
            raise
        else:
            await self._release_channel(conn, chan)
            conn.sessions.release()
        out.close()
        err.close()
        return CommandResult(
            exit_status=None if timed_out else status,
            stdout=out.buffer.text(),
            stderr=err.buffer.text(),
            timed_out=timed_out,
            truncated_bytes=out.dropped + err.dropped,
        )

    def _emitter(self, on_output: OutputCallback | None) -> Callable[[str, str], None] | None:
        return on_output

    async def _open_channel(self, conn: Conn, command: str, out: Stream, err: Stream, stdin: str | None) -> Any:
        deadline = time.monotonic() + CHANNEL_RETRY_S
        delay = 0.01
        while True:
            await conn.sessions.acquire()
            try:
                return await self._open_session(conn, command, out, err, stdin)
            except Refused as exc:
                conn.sessions.shrink()
                conn.sessions.release()
                if time.monotonic() > deadline:
                    raise TransportError(
                        ErrorKind.CHANNEL,
                        f"{conn.endpoint.describe()} refused a new session for"
                        f" {CHANNEL_RETRY_S:g}s (sshd MaxSessions?): {exc}",
                    ) from exc
            except BaseException:
                conn.sessions.release()
                raise
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)

    async def _stop(self, conn: Conn, chan: Any, pgid: int | None) -> None:
        """Stop a timed-out or cancelled command: the channel, then its process group."""
        try:
            await self._abort(conn, chan)
        finally:
            conn.sessions.release()
        if pgid is None or pgid < 2 or conn.dead:
            return
        out = Stream("stdout", 4096, None, marker=False)
        err = Stream("stderr", 4096, None, marker=True)
        try:
            async with asyncio.timeout(KILL_TIMEOUT_S):
                kill = await self._open_channel(conn, wrap_command(kill_script(pgid)), out, err, None)
                try:
                    await self._wait_exit(conn, kill)
                    await self._release_channel(conn, kill)
                finally:
                    conn.sessions.release()
        except Exception as exc:
            log.warning("could not stop process group %s on %s: %s", pgid, conn.endpoint, exc)


def auth_message(ep: Endpoint, password: str | None) -> str:
    """Why authentication failed, naming what was tried (shared by both SSH transports)."""
    tried = []
    tried.append("identity file " + ", ".join(ep.identity_files) if ep.identity_files else "default keys and ssh-agent")
    if ep.password_env:
        tried.append(
            f"password from ${ep.password_env}" if password else f"no password (${ep.password_env} is not set)"
        )
    return f"authentication refused by {ep.describe()} for user {ep.user!r} (tried {'; '.join(tried)})"
