"""PID 1 of one lab host: makes the host's private filesystem view, then supervises its services.

Started by the lab as
  ip netns exec rb-HOST unshare --pid --mount --uts --ipc --fork --mount-proc \
      --propagation private python3 hostinit.py SPEC.json
so it runs in the host's own network, PID, mount, UTS and IPC namespaces. Stdlib only: it
runs under the system Python, which every lab host shares.

SPEC.json (paths as seen from the root namespace, read before any bind mount):
  {"hostname": "gw1",
   "binds": [["/run/runbook-lab/hosts/gw1/fs/etc/nginx", "/etc/nginx"], ...],   # /run last
   "control": "/run/lab-init",                      # host path, after the binds
   "services": {"sshd": {"argv": [...], "log": "/var/log/sshd.log"}, ...}}

Control: the lab writes CONTROL/wanted ({"token": ..., "services": [...]}) and sends SIGHUP;
the init starts what is wanted and not running, stops what is running and not wanted, then
writes CONTROL/status.json carrying the same token. A service that dies is not restarted (a
crashed service stays down, as on a real host) until the next reconcile asks for it again.
SIGTERM stops every service and exits; the kernel then ends whatever else the PID
namespace holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SIGNALS = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
STOP_GRACE_S = 3.0


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} init[{socket.gethostname()}]: {msg}", flush=True)


def bind(src: str, dst: str) -> None:
    subprocess.run(["mount", "--bind", src, dst], check=True)


def _unblock() -> None:
    # children must not inherit the init's blocked signal mask
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


class Supervisor:
    def __init__(self, spec: dict):
        self.spec = spec
        self.control = Path(spec["control"])
        self.procs: dict[str, subprocess.Popen] = {}
        self.exited: dict[str, int] = {}
        self.token = ""

    def start(self, name: str) -> None:
        svc = self.spec["services"][name]
        logpath = Path(svc["log"])
        logpath.parent.mkdir(parents=True, exist_ok=True)
        with open(logpath, "ab", buffering=0) as out:
            proc = subprocess.Popen(
                svc["argv"],
                executable=svc.get("executable"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_unblock,
                cwd=svc.get("cwd", "/"),
                env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        self.procs[name] = proc
        self.exited.pop(name, None)
        log(f"started {name} pid {proc.pid}")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log(f"stopped {name} (exit {proc.returncode})")

    def reap(self) -> None:
        # as PID 1 we inherit every orphan (ssh sessions, daemonised helpers): reap them all
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for name, proc in list(self.procs.items()):
                if proc.pid == pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    self.exited[name] = proc.returncode
                    del self.procs[name]
                    log(f"{name} (pid {pid}) exited with {proc.returncode}")

    def reconcile(self) -> None:
        try:
            wanted_doc = json.loads((self.control / "wanted").read_text())
        except (OSError, ValueError):
            wanted_doc = {"token": "", "services": list(self.spec["services"])}
        wanted = [s for s in wanted_doc.get("services", []) if s in self.spec["services"]]
        for name in list(self.procs):
            if name not in wanted:
                self.stop(name)
        for name in wanted:
            if name not in self.procs:
                try:
                    self.start(name)
                except OSError as exc:
                    log(f"cannot start {name}: {exc}")
                    self.exited[name] = 127
        self.token = str(wanted_doc.get("token", ""))
        self.write_status()

    def write_status(self) -> None:
        status = {
            "token": self.token,
            "running": {name: proc.pid for name, proc in self.procs.items()},
            "exited": self.exited,
        }
        tmp = self.control / "status.json.tmp"
        tmp.write_text(json.dumps(status))
        tmp.replace(self.control / "status.json")

    def shutdown(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.token = "stopped"
        self.write_status()


def setup(spec: dict) -> None:
    socket.sethostname(spec["hostname"])
    for src, dst in spec["binds"]:
        bind(src, dst)
    Path(spec["control"]).mkdir(parents=True, exist_ok=True)


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    setup(spec)
    sup = Supervisor(spec)
    log("namespaces ready")
    sup.reconcile()
    while True:
        info = signal.sigtimedwait(SIGNALS, 1.0)
        sup.reap()
        if info is None or info.si_signo == signal.SIGCHLD:
            if info is not None:
                sup.write_status()
            continue
        if info.si_signo == signal.SIGHUP:
            sup.reconcile()
        elif info.si_signo in (signal.SIGTERM, signal.SIGINT):
            log("shutting down")
            sup.shutdown()
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
