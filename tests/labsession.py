"""One test session's hold on the live lab: up once, left as found at the end, whatever happens.

The lab is machine-wide (network namespaces `rb-*`, nginx, sshd, the apps), so a test run that
leaves it up leaves real processes behind. A session that brought the lab up takes it down
when its last lab test is done, at session end (pass, fail or Ctrl-C: pytest finishes the
session), on SIGTERM/SIGHUP (turned into KeyboardInterrupt, so pytest unwinds the same way) and,
as a last resort, at interpreter exit. A lab that was up before the session is someone else's:
it is left up and healthy. Only SIGKILL escapes; scripts/test-all.sh checks for that.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.lab.lab import Lab

#: signals that end a test run from outside (CI cancelling a job, a closed terminal)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class LabSession:
    def __init__(self) -> None:
        self.lab: Lab | None = None
        #: decided once, by the first lab test of the session: was the lab already up?
        self.preexisting: bool | None = None
        self._lock: contextlib.ExitStack | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._atexit_registered = False

    @property
    def holding(self) -> bool:
        return self._lock is not None

    def acquire(self) -> Lab:
        """The lab, up, with the machine-wide lab lock held until `release`."""
        from runbook.lab.lab import Lab, lab_lock

        if self._lock is None:
            lock = contextlib.ExitStack()
            lock.enter_context(lab_lock(timeout=300))
            self._lock = lock
        if self.lab is None:
            self.lab = Lab()
        if self.preexisting is None:
            self.preexisting = self.lab.is_up()
        if not self.preexisting:
            # armed before `up`: a lab half built when a signal comes is removed too
            self._arm()
        self.lab.up()
        self.lab.preexisting = self.preexisting  # type: ignore[attr-defined]
        return self.lab

    def release(self) -> None:
        """Leave the lab as the session found it (down, or up and healthy) and unlock it."""
        if self._lock is None or self.lab is None:
            return
        # a second Ctrl-C or SIGTERM must not cut the teardown short
        ignored = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, *STOP_SIGNALS)}
        try:
            if not self.preexisting:
                self.lab.down()
            elif self.lab.is_up():
                self.lab.set_fault("healthy", probe=False)
        finally:
            for sig, handler in ignored.items():
                signal.signal(sig, handler)
            self._disarm()
            self._lock.close()
            self._lock = None

    def _arm(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._at_exit)
            self._atexit_registered = True
        for sig in STOP_SIGNALS:
            if sig not in self._previous_handlers:
                self._previous_handlers[sig] = signal.signal(sig, _interrupt)

    def _disarm(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def _at_exit(self) -> None:
        # pytest normally released the lab already; this covers exits that skipped its teardown
        with contextlib.suppress(Exception):
            self.release()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


#: the one hold of this process (tests/conftest.py's fixtures and hooks share it)
LAB_SESSION = LabSession()
