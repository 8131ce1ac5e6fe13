"""Run commands on the runner itself: asyncio subprocess, streamed, timed out, cancellable."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import time

from runbook.inventory import Host
from runbook.transports.base import (
    DEFAULT_MAX_OUTPUT,
    CommandResult,
    ErrorKind,
    OutputBuffer,
    OutputCallback,
    Transport,
    TransportError,
)


class LocalTransport(Transport):
    name = "local"

    def needs_sudo(self, host: Host) -> bool:
        return os.geteuid() != 0

    def connection_state(self, host: Host) -> str:
        return "connected"

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
        t0 = time.monotonic()
        try:
            # a new session, so a timeout or cancel kills the whole process group
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise TransportError(ErrorKind.OTHER, f"cannot start /bin/sh: {exc}") from exc
        buffers = {"stdout": OutputBuffer(max_output), "stderr": OutputBuffer(max_output)}

        async def pump(stream: asyncio.StreamReader, name: str) -> None:
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            while chunk := await stream.read(65536):
                text = decoder.decode(chunk)
                kept = buffers[name].add(text)
                if on_output and kept:
                    on_output(name, kept)
            tail = decoder.decode(b"", final=True)
            if tail:
                buffers[name].add(tail)

        async def feed() -> None:
            if stdin is not None and proc.stdin:
                proc.stdin.write(stdin.encode())
                await proc.stdin.drain()
                proc.stdin.close()

        assert proc.stdout and proc.stderr
        timed_out = False
        work = asyncio.ensure_future(
            asyncio.gather(pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr"), feed(), proc.wait())
        )
        try:
            # shielded: on timeout the pumps keep reading until the killed process closes its pipes
            await asyncio.wait_for(asyncio.shield(work), timeout)
        except TimeoutError:
            timed_out = True
            self._kill(proc)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(work, 5)
        except asyncio.CancelledError:
            self._kill(proc)
            # nobody awaits `work` now; fetch its outcome so asyncio does not log it
            work.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise
        return CommandResult(
            exit_status=None if timed_out else proc.returncode,
            stdout=buffers["stdout"].text(),
            stderr=buffers["stderr"].text(),
            duration_s=time.monotonic() - t0,
            timed_out=timed_out,
            truncated_bytes=buffers["stdout"].dropped + buffers["stderr"].dropped,
        )

    @staticmethod
    def _kill(proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
