"""CPU, load and memory from /proc, sampled by a POSIX sh snippet that needs no procps."""

from __future__ import annotations

import re
from typing import Any

#: Run on the host (POSIX sh; only cat/grep/sleep). Each section is behind a `== name` line.
#: cgroup v2 limits are printed when present, since a container's MemTotal is the host's.
RESOURCES_COMMAND = (
    "echo '== nproc'; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null"
    " || grep -c '^processor' /proc/cpuinfo; "
    "echo '== loadavg'; cat /proc/loadavg; "
    "echo '== stat1'; grep '^cpu ' /proc/stat; "
    "sleep 1; "
    "echo '== stat2'; grep '^cpu ' /proc/stat; "
    "echo '== meminfo'; grep -E"
    " '^(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree):' /proc/meminfo; "
    "echo '== cgroup'; for f in memory.max memory.current cpu.max; do"
    ' [ -r "/sys/fs/cgroup/$f" ] && echo "$f $(cat "/sys/fs/cgroup/$f")"; done; true'
)


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (text or "").splitlines():
        if m := re.match(r"^==\s*(\S+)\s*$", line):
            current = out.setdefault(m.group(1), [])
        elif current is not None and line.strip():
            current.append(line.strip())
    return out


def _cpu_sample(lines: list[str]) -> tuple[int, int] | None:
    """(total, idle incl. iowait) jiffies from a `cpu ` line of /proc/stat."""
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "cpu":
            try:
                nums = [int(x) for x in parts[1:]]
            except ValueError:
                return None
            if len(nums) < 4:
                return None
            # user nice system idle iowait irq softirq steal (guest is inside user already)
            total = sum(nums[:8])
            idle = nums[3] + (nums[4] if len(nums) > 4 else 0)
            return total, idle
    return None


def parse_resources(text: str) -> dict[str, Any]:
    """Parse RESOURCES_COMMAND's output; fields it cannot find are None."""
    r: dict[str, Any] = dict.fromkeys(
        (
            "cpus",
            "load1",
            "load5",
            "load15",
            "cpu_pct",
            "mem_total_kb",
            "mem_available_kb",
            "mem_used_pct",
            "load_per_cpu",
            "swap_total_kb",
            "swap_free_kb",
            "cgroup_mem_max_kb",
            "cgroup_mem_current_kb",
            "cgroup_mem_used_pct",
        )
    )
    r["errors"] = []
    try:
        _fill(_sections(text), r)
    except Exception as exc:
        r["errors"].append(f"internal error: {exc!r}")
    return r


def _fill(sec: dict[str, list[str]], r: dict[str, Any]) -> None:
    for line in sec.get("nproc", []):
        if line.isdigit() and int(line) > 0:
            r["cpus"] = int(line)
            break
    for line in sec.get("loadavg", []):
        parts = line.split()
        try:
            r["load1"], r["load5"], r["load15"] = (float(x) for x in parts[:3])
        except ValueError:
            r["errors"].append(f"bad loadavg: {line[:100]}")
        break
    a, b = _cpu_sample(sec.get("stat1", [])), _cpu_sample(sec.get("stat2", []))
    if a and b and b[0] > a[0]:
        dt, didle = b[0] - a[0], b[1] - a[1]
        r["cpu_pct"] = round(100.0 * (dt - didle) / dt, 1)
    elif "stat1" in sec or "stat2" in sec:
        r["errors"].append("cpu samples missing or not increasing")
    mem: dict[str, int] = {}
    for line in sec.get("meminfo", []):
        if m := re.match(r"^(\w+):\s+(\d+)", line):
            mem[m.group(1)] = int(m.group(2))
    r["mem_total_kb"] = mem.get("MemTotal")
    avail = mem.get("MemAvailable")
    if avail is None and "MemFree" in mem:  # kernels before 3.14 have no MemAvailable
        avail = mem["MemFree"] + mem.get("Buffers", 0) + mem.get("Cached", 0)
    r["mem_available_kb"] = avail
    r["swap_total_kb"], r["swap_free_kb"] = mem.get("SwapTotal"), mem.get("SwapFree")
    if r["mem_total_kb"] and avail is not None:
        r["mem_used_pct"] = round(100.0 * (r["mem_total_kb"] - avail) / r["mem_total_kb"], 1)
    if r["cpus"] and r["load1"] is not None:
        r["load_per_cpu"] = round(r["load1"] / r["cpus"], 2)
    for line in sec.get("cgroup", []):
        name, _, value = line.partition(" ")
        if name == "memory.max" and value.isdigit():
            r["cgroup_mem_max_kb"] = int(value) // 1024
        elif name == "memory.current" and value.isdigit():
            r["cgroup_mem_current_kb"] = int(value) // 1024
    if r["cgroup_mem_max_kb"] and r["cgroup_mem_current_kb"] is not None:
        r["cgroup_mem_used_pct"] = round(100.0 * r["cgroup_mem_current_kb"] / r["cgroup_mem_max_kb"], 1)
