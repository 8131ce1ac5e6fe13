"""Cold and warm fan-out of one read-only command to 20, 50 and 100 sshd endpoints.

    python benchmarks/bench_fanout.py [--sizes 20,50,100] [--sshds 10] [--no-venv]

Starts several OpenSSH sshd processes on loopback ports (needs root and /usr/sbin/sshd),
then times, side by side: runbook's asyncssh and paramiko transports (cold = new
connections, warm = the same transport again), OpenSSH's own client started in parallel
(`xargs -P`, the floor), parallel-ssh and Ansible ad-hoc (`ansible all -m command`, forks =
host count). parallel-ssh and ansible-core are installed from PyPI into a venv of the
benchmark's own under /tmp; if that fails the reason is printed and the rest goes on.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook.inventory import Host  # noqa: E402
from runbook.transports.factory import make_transport  # noqa: E402

SSHD = "/usr/sbin/sshd"
COMMAND = "cat /proc/loadavg"
BENCH_USER = "rbbench"
VENV = Path(tempfile.gettempdir()) / "runbook-bench-venv"


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """n sshd processes; endpoint i is sshd i % n (so each sshd serves several hosts)."""

    def __init__(self, n: int):
        self.dir = Path(tempfile.mkdtemp(prefix="runbook-bench-"))
        self.host_key = keygen(self.dir / "host_ed25519")
        self.user_key = keygen(self.dir / "user_ed25519")
        (self.dir / "authorized_keys").write_text((self.dir / "user_ed25519.pub").read_text())
        self.known_hosts = self.dir / "known_hosts"
        pub = " ".join((self.dir / "host_ed25519.pub").read_text().split()[:2])
        os.makedirs("/run/sshd", exist_ok=True)
        # A throwaway user with a plain /bin/sh: root's shell here is bash, and bash sources
        # ~/.bashrc for every ssh session (this machine's runs `pyenv init`, ~80 ms), which
        # would measure the rc file instead of the clients.
        subprocess.run(["userdel", BENCH_USER], capture_output=True)
        home = self.dir / "home"
        subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/bin/sh", BENCH_USER], check=True)
        # "*": no password, but not a locked account ("!"), which sshd refuses without PAM
        subprocess.run(["usermod", "-p", "*", BENCH_USER], check=True)
        # sshd reads authorized_keys as the user
        os.chmod(self.dir, 0o755)
        os.chmod(self.dir / "authorized_keys", 0o644)
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen] = []
        lines = []
        for _ in range(n):
            port = free_port()
            cfg = self.dir / f"sshd_config-{port}"
            cfg.write_text(
                f"Port {port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
                f"PidFile {self.dir}/sshd-{port}.pid\n"
                f"AuthorizedKeysFile {self.dir}/authorized_keys\nStrictModes no\nUsePAM no\n"
                "PermitRootLogin yes\nPasswordAuthentication no\nUseDNS no\nLogLevel ERROR\n"
                # generous bounds: the clients, not sshd's throttling, are being measured
                "MaxStartups 100:30:200\nMaxSessions 20\n"
            )
            self.procs.append(subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)]))
            self.ports.append(port)
            lines.append(f"[127.0.0.1]:{port} {pub}\n")
        self.known_hosts.write_text("".join(lines))
        time.sleep(0.5)

    def port_of(self, i: int) -> int:
        return self.ports[i % len(self.ports)]

    def hosts(self, count: int) -> list[Host]:
        return [
            Host(
                name=f"h{i:03}",
                address="127.0.0.1",
                port=self.port_of(i),
                user=BENCH_USER,
                identity_file=str(self.user_key),
                known_hosts=str(self.known_hosts),
                connect_timeout=60,
            )
            for i in range(count)
        ]

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(5)
        subprocess.run(["userdel", BENCH_USER], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


RESOLUTION: dict[str, tuple[int, float]] = {}


async def runbook_fanout(kind: str, hosts: list[Host]) -> tuple[float, float, int]:
    """Cold includes resolving every host's endpoint with `ssh -G` (cached per transport)."""
    t = make_transport(kind)
    try:
        t0 = time.perf_counter()
        cold = await asyncio.gather(*(t.run(h, COMMAND, timeout=120) for h in hosts), return_exceptions=True)
        t1 = time.perf_counter()
        await asyncio.gather(*(t.run(h, COMMAND, timeout=120) for h in hosts))
        t2 = time.perf_counter()
    finally:
        await t.close()
    ssh_g = t.ssh_config.ssh_g  # type: ignore[attr-defined]
    RESOLUTION[f"{kind}-{len(hosts)}"] = (ssh_g.calls, ssh_g.seconds)
    ok = sum(1 for r in cold if not isinstance(r, BaseException) and r.exit_status == 0)
    return t1 - t0, t2 - t1, ok


def resolution_cost(hosts: list[Host]) -> tuple[float, float]:
    """ms per host for `ssh -G` with nothing cached (every host its own alias), and cached."""
    from runbook.inventory.ssh_config import SSHResolver

    r = SSHResolver(reader="ssh")
    distinct = [h.model_copy(update={"port": 1000 + i}) for i, h in enumerate(hosts)]
    t0 = time.perf_counter()
    for h in distinct:
        r.resolve_host(h)
    t1 = time.perf_counter()
    for h in distinct:
        r.resolve_host(h)
    t2 = time.perf_counter()
    return (t1 - t0) * 1000 / len(hosts), (t2 - t1) * 1000 / len(hosts)


def openssh_xargs(lab: Lab, count: int) -> tuple[float, int]:
    ports = "\n".join(str(lab.port_of(i)) for i in range(count)) + "\n"
    cmd = (
        f"xargs -P {count} -I{{}} ssh -q -o BatchMode=yes -o StrictHostKeyChecking=yes"
        f" -o UserKnownHostsFile={lab.known_hosts} -o ControlMaster=no -F /dev/null"
        f" -i {lab.user_key} -p {{}} {BENCH_USER}@127.0.0.1 {COMMAND}"
    )
    t0 = time.perf_counter()
    out = subprocess.run(cmd, shell=True, input=ports, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    return elapsed, out.stdout.count("\n")


def ensure_venv() -> str | None:
    """A venv with parallel-ssh and ansible-core, or the reason there is none."""
    py = VENV / "bin" / "python"
    if (VENV / ".ready").exists():
        return None
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "parallel-ssh", "ansible-core"],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as exc:
        return f"pip install failed: {(exc.stderr or '').strip()[-400:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"venv setup failed: {exc}"
    (VENV / ".ready").touch()
    return None


PSSH_SCRIPT = """
import sys, time
from pssh.clients import ParallelSSHClient
from pssh.config import HostConfig
key, ports = sys.argv[1], [int(p) for p in sys.argv[2].split(",")]
hosts = ["127.0.0.1"] * len(ports)
cfg = [HostConfig(port=p, user=sys.argv[4], private_key=key) for p in ports]
t0 = time.perf_counter()
client = ParallelSSHClient(hosts, host_config=cfg, pool_size=len(ports), timeout=120)
out = client.run_command(sys.argv[3])
client.join(out)
ok = sum(1 for o in out if o.exit_code == 0)
t1 = time.perf_counter()
out = client.run_command(sys.argv[3])
client.join(out)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, ok)
"""


def parallel_ssh(lab: Lab, count: int) -> tuple[float, float, int] | str:
    ports = ",".join(str(lab.port_of(i)) for i in range(count))
    # parallel-ssh (libssh2) does not check host keys: loopback only, benchmark only
    out = subprocess.run(
        [str(VENV / "bin/python"), "-c", PSSH_SCRIPT, str(lab.user_key), ports, COMMAND, BENCH_USER],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return f"parallel-ssh failed: {out.stderr.strip()[-300:]}"
    cold, warm, ok = out.stdout.split()
    return float(cold), float(warm), int(ok)


def ansible_adhoc(lab: Lab, count: int) -> tuple[float, int] | str:
    inv = lab.dir / f"ansible-{count}.ini"
    inv.write_text(
        "".join(f"h{i:03} ansible_port={lab.port_of(i)}\n" for i in range(count))
        + f"[all:vars]\nansible_host=127.0.0.1\nansible_user={BENCH_USER}\n"
        f"ansible_ssh_private_key_file={lab.user_key}\n"
        "ansible_python_interpreter=/usr/bin/python3\n"
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts}"
        " -o StrictHostKeyChecking=yes -o ControlMaster=no'\n"
    )
    env = {
        **os.environ,
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_LOCAL_TEMP": str(lab.dir / "ansible-tmp"),
        "ANSIBLE_SSH_ARGS": "",  # no ControlPersist: a cold run
    }
    cmd = [str(VENV / "bin/ansible"), "all", "-i", str(inv), "-f", str(count)]
    cmd += ["-m", "command", "-a", COMMAND, "-o"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    ok = out.stdout.count("| CHANGED |") + out.stdout.count("| SUCCESS |")
    if out.returncode and not ok:
        return f"ansible failed: {(out.stderr or out.stdout).strip()[-300:]}"
    return elapsed, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20,50,100")
    ap.add_argument("--sshds", type=int, default=10, help="sshd processes to spread hosts over")
    ap.add_argument("--no-venv", action="store_true", help="skip parallel-ssh and Ansible")
    args = ap.parse_args()
    if not Path(SSHD).exists() or os.geteuid() != 0:
        print("needs root and /usr/sbin/sshd (apt-get install openssh-server)")
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    venv_problem = "skipped (--no-venv)" if args.no_venv else ensure_venv()
    if venv_problem:
        print(f"parallel-ssh / Ansible: {venv_problem}")
    lab = Lab(args.sshds)
    rows = []
    try:
        for n in sizes:
            hosts = lab.hosts(n)
            row: dict[str, str] = {"hosts": str(n)}
            for kind in ("asyncssh", "paramiko"):
                cold, warm, ok = asyncio.run(runbook_fanout(kind, hosts))
                row[f"{kind} cold"] = f"{cold:.2f}" + ("" if ok == n else f" ({ok} ok)")
                row[f"{kind} warm"] = f"{warm:.3f}"
            calls, secs = RESOLUTION[f"asyncssh-{n}"]
            row["ssh -G in run s"] = f"{secs:.3f}"
            cold_ms, warm_ms = resolution_cost(hosts)
            row["ssh -G ms/host"] = f"{cold_ms:.1f} (cached {warm_ms:.3f}; {calls} calls in the run)"
            floor, ok = openssh_xargs(lab, n)
            row["ssh xargs -P"] = f"{floor:.2f}" + ("" if ok == n else f" ({ok} ok)")
            if not venv_problem:
                p = parallel_ssh(lab, n)
                if isinstance(p, str):
                    print(p)
                    row["parallel-ssh cold"] = row["parallel-ssh warm"] = "-"
                else:
                    row["parallel-ssh cold"] = f"{p[0]:.2f}" + ("" if p[2] == n else f" ({p[2]} ok)")
                    row["parallel-ssh warm"] = f"{p[1]:.3f}"
                a = ansible_adhoc(lab, n)
                if isinstance(a, str):
                    print(a)
                    row["ansible"] = "-"
                else:
                    row["ansible"] = f"{a[0]:.2f}" + ("" if a[1] == n else f" ({a[1]} ok)")
            rows.append(row)
            print(row, flush=True)
    finally:
        lab.stop()
    cols = list(rows[0])
    print()
    print(f"seconds, command `{COMMAND}`, {args.sshds} sshd processes on loopback, {os.cpu_count()} CPUs")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(row.get(c, "-") for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
