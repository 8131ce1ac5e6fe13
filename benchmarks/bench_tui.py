"""TUI responsiveness: time to the first interactive frame, to the first headless step, to the
report preview, and key-press-to-repaint latency while 10,000 lines a second stream in across
hosts. Printed, never asserted.

    python benchmarks/bench_tui.py [--rate 10000] [--keys 60] [--seconds-before 1] [--runs 10]

Start-up figures are taken with runbook's bytecode compiled (as an installed copy has it).

0. Bare `runbook` (the demo) in tmux: from the spawn to the start screen (median of --runs).
0b. Headless: `runbook run 502-bad-gateway --scenario demo --headless`, from the spawn to the
   first step's line on stderr (median of --runs).
0c. Report preview: on the replayed lab fixture at its conclusion, from pressing p to the
   rendered report on screen (median of --runs).

1. First frame, real terminal: `runbook run {PLAYBOOK} --scenario ...` in tmux, from the
   spawn to the start screen on tmux's screen (median of --runs; skipped without tmux); in the
   same run, a hello-world Textual app's first frame the same way, and the ratio of the two.
2. First frame, in process: from creating the app (playbook, scenario, journal) to the first
   compositor refresh of the start screen (headless driver).
3. Key latency while streaming: the main screen on the replayed lab fixture; a task feeds
   step-output events through the app's session listener (the same path live output takes) at
   RATE lines/s spread over every host tab; meanwhile the tree cursor is moved with a key and
   the time to the first repaint showing the move is measured (median, p95, worst).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "tui" / "fixtures" / "lab-502.jsonl"
PLAYBOOK = ROOT / "playbooks" / "502-bad-gateway.yaml"  # the scenario replays the real playbook
LINE = (
    "2026/11/22 03:04:05 [error] 1234#1234: *{n} upstream timed out (110: Connection timed out) while reading "
    'response header from upstream, client: 198.18.0.1, server: _, request: "GET /api/users HTTP/1.1"'
)


HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App[None]):
    def compose(self):
        yield Static("Hello, world")

Hello().run()
"""


def _median(times: list[float | None]) -> float | None:
    got = [t for t in times if t is not None]
    return statistics.median(got) if got else None


def first_frame_tmux(runs: int) -> float | None:
    """`runbook run` on the replayed lab fixture: the start screen (median of runs)."""
    runbook = shutil.which("runbook")
    if not runbook:
        return None
    times: list[float | None] = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp())
        cmd = f"XDG_DATA_HOME={tmp} {runbook} run {PLAYBOOK} --scenario {SCENARIO} --journal {tmp}/j.jsonl"
        times.append(_tmux_until(cmd, "Incident title"))
    return _median(times)


def first_frame_hello(runs: int) -> float | None:
    """The floor: a hello-world Textual app on the same Python, measured the same way."""
    tmp = Path(tempfile.mkdtemp())
    (tmp / "hello.py").write_text(HELLO)
    return _median([_tmux_until(f"{sys.executable} {tmp / 'hello.py'}", "Hello, world") for _ in range(runs)])


def _tmux_until(cmd: str, marker: str) -> float | None:
    tmux = shutil.which("tmux")
    if not tmux:
        return None
    socket = f"runbook-bench-{os.getpid()}-{time.monotonic_ns()}"
    t0 = time.perf_counter()
    subprocess.run([tmux, "-L", socket, "new-session", "-d", "-s", "b", "-x", "160", "-y", "48", cmd], check=True)
    try:
        while time.perf_counter() - t0 < 30:
            screen = subprocess.run(
                [tmux, "-L", socket, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
            ).stdout
            if marker in screen:
                return time.perf_counter() - t0
            time.sleep(0.005)
        return None
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def first_frame_demo(runs: int) -> float | None:
    """Bare `runbook`: the demo's start screen."""
    runbook = shutil.which("runbook")
    if not runbook:
        return None
    times = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp())
        t = _tmux_until(f"cd {tmp} && XDG_DATA_HOME={tmp} {runbook}", "Incident title")
        if t is not None:
            times.append(t)
    return statistics.median(times) if times else None


def headless_first_step(runs: int) -> float:
    """Process start to the first step's line of a headless run on the demo."""
    times = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp())
        env = {**os.environ, "XDG_DATA_HOME": str(tmp)}
        cmd = [sys.executable, "-m", "runbook", "run", "502-bad-gateway", "--scenario", "demo", "--headless"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "▶" in line:
                times.append(time.perf_counter() - t0)
                break
        proc.wait()
    return statistics.median(times)


async def preview_once() -> float:
    from runbook.tui.app import RunbookApp
    from runbook.tui.screens.report import ReportScreen
    from runbook.wiring import RunConfig

    tmp = Path(tempfile.mkdtemp())
    cfg = RunConfig(playbook=str(PLAYBOOK), scenario=str(SCENARIO), journal=str(tmp / "j.jsonl"))
    app = RunbookApp(cfg, ask_incident=False, export_dir=tmp)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.main is not None
        app.main.pause_on_result = False
        await pilot.press("a")
        while not app.session.finished:
            await pilot.pause(0.01)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        app.pop_screen() if type(app.screen).__name__ == "ConclusionScreen" else None
        await pilot.pause()
        await app.workers.wait_for_complete()  # what the app does in the background as the walk goes
        t0 = time.perf_counter()
        # not awaited: Pilot.press returns once the screen is idle, long after the report shows
        press = asyncio.ensure_future(pilot.press("p"))
        while not (isinstance(app.screen, ReportScreen) and app.screen.shown_after is not None):
            await asyncio.sleep(0.001)
        stamps: list[float] = []
        patch_refresh(app.screen, stamps)
        app.screen.refresh()
        while not stamps:
            await asyncio.sleep(0.001)
        await press
        # the appendix too, so that its thread does not run on into the next measure
        while not app.screen.complete:
            await asyncio.sleep(0.01)
        return stamps[0] - t0


def preview(runs: int) -> float:
    return statistics.median(asyncio.run(preview_once()) for _ in range(runs))


def patch_refresh(screen: Any, stamps: list[float]) -> None:
    original = screen._compositor_refresh

    def refresh() -> None:
        original()
        stamps.append(time.perf_counter())

    screen._compositor_refresh = refresh


async def first_frame_in_process() -> float:
    from runbook.tui.app import RunbookApp
    from runbook.wiring import RunConfig

    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    app = RunbookApp(RunConfig(playbook=str(PLAYBOOK), scenario=str(SCENARIO), journal=str(tmp / "j.jsonl")))
    async with app.run_test(size=(160, 48)) as pilot:
        while type(app.screen).__name__ != "StartScreen":
            await pilot.pause(0.001)
        stamps: list[float] = []
        patch_refresh(app.screen, stamps)
        app.screen.refresh()
        while not stamps:
            await asyncio.sleep(0.001)
        return stamps[0] - t0


async def key_latency(rate: int, keys: int, before_s: float) -> dict[str, Any]:
    from runbook.tui.app import RunbookApp
    from runbook.tui.widgets.tree import PlaybookTree
    from runbook.wiring import RunConfig

    tmp = Path(tempfile.mkdtemp())
    app = RunbookApp(
        RunConfig(playbook=str(PLAYBOOK), scenario=str(SCENARIO), journal=str(tmp / "j.jsonl")),
        ask_incident=False,
    )
    sent = 0
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        main = app.main
        assert main is not None
        from runbook.tui.widgets.output import OutputView

        output = main.query_one(OutputView)
        hosts = list(app.session.inventory.hosts)
        node = app.session.current or ""
        for i, host in enumerate(hosts):  # one running step per host, on the node the panel shows
            output.start(f"s9{i:02d}", node, host, "stream", "tail -f /var/log/nginx/error.log")
        tree = main.query_one(PlaybookTree)
        tree.focus()
        stamps: list[float] = []
        patch_refresh(main, stamps)
        stop = asyncio.Event()

        async def stream() -> None:
            nonlocal sent
            tick = 0.01
            per_tick = max(1, int(rate * tick))
            start = time.perf_counter()
            while not stop.is_set():
                for i, host in enumerate(hosts):
                    share = per_tick // len(hosts) + (1 if i < per_tick % len(hosts) else 0)
                    text = "".join(LINE.format(n=sent + j) + "\n" for j in range(share))
                    app.on_session_event(
                        {
                            "type": "step-output",
                            "step_id": f"s9{i:02d}",
                            "key": "k",
                            "host": host,
                            "stream": "stdout",
                            "text": text,
                        }
                    )
                    sent += share
                # keep the average rate whatever the loop's jitter
                ahead = start + sent / rate - time.perf_counter()
                await asyncio.sleep(max(ahead, 0))

        feeder = asyncio.create_task(stream())
        t_stream = time.perf_counter()
        await asyncio.sleep(before_s)
        latencies: list[float] = []
        lost = 0
        for i in range(keys):
            key = "down" if (i // 8) % 2 == 0 else "up"
            before = tree.cursor_line
            t0 = time.perf_counter()
            app.simulate_key(key)
            # a key that moves nothing (the tree's end, focus elsewhere) is counted, never waited on
            deadline = t0 + 2.0
            while tree.cursor_line == before and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            moved = time.perf_counter()
            while (not stamps or stamps[-1] < moved) and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            if tree.cursor_line == before or not stamps or stamps[-1] < moved:
                lost += 1
            else:
                latencies.append(stamps[-1] - t0)
            await asyncio.sleep(0.05)
        stop.set()
        await feeder
        elapsed = time.perf_counter() - t_stream
        kept = sum(len(b.text().splitlines()) for b in output.blocks.values())
    latencies = sorted(latencies) or [float("nan")]
    return {
        "lost": lost,
        "lines": sent,
        "rate": sent / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "worst_ms": latencies[-1] * 1000,
        "kept_lines": kept,
        "keys": len(latencies),
    }


def compile_bytecode() -> str:
    """Start-up is measured as an installed runbook starts: with its bytecode written (pip does
    that at install, as it did for textual). A source checkout under PYTHONDONTWRITEBYTECODE
    would otherwise compile every module of runbook on each start, and the hello-world none."""
    import compileall

    compileall.compile_dir(str(ROOT / "runbook"), quiet=1, force=False)
    dont = " (PYTHONDONTWRITEBYTECODE is set: written once here)" if sys.dont_write_bytecode else ""
    return f"bytecode: runbook's .pyc files present{dont}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10_000, help="lines per second streamed in")
    parser.add_argument("--keys", type=int, default=60, help="key presses measured")
    parser.add_argument("--seconds-before", type=float, default=1.0, help="streaming before the first key")
    parser.add_argument("--runs", type=int, default=10, help="runs per start-up and preview figure (median)")
    args = parser.parse_args()

    def load() -> str:  # each figure gets the load it was measured under (shared machines vary)
        return f"[load {os.getloadavg()[0]:.2f}]"

    print(f"runbook TUI benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each)")
    print(compile_bytecode())
    demo = first_frame_demo(args.runs)
    print(f"first frame, bare `runbook` (demo) in tmux: {demo:.3f} s {load()}" if demo else "bare runbook: skipped")
    print(f"headless run, process start to first step: {headless_first_step(args.runs):.3f} s {load()}")
    print(f"report preview, p to the report on screen:  {preview(args.runs) * 1000:.0f} ms {load()}")
    tmux = first_frame_tmux(args.runs)
    print(f"first frame, `runbook run` in tmux:  {tmux:.3f} s {load()}" if tmux else "first frame in tmux: skipped")
    hello = first_frame_hello(args.runs)
    if hello:
        print(f"first frame, hello-world Textual app in tmux: {hello:.3f} s {load()}")
    if tmux and hello:
        print(f"first frame ratio, runbook / hello-world: {tmux / hello:.2f}x")
    print(f"first frame, in process:             {asyncio.run(first_frame_in_process()):.3f} s {load()}")
    r = asyncio.run(key_latency(args.rate, args.keys, args.seconds_before))
    print(
        f"key -> repaint while streaming {r['rate']:,.0f} lines/s ({r['lines']:,} lines, {r['keys']} keys): "
        f"median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, worst {r['worst_ms']:.1f} ms; "
        f"scrollback kept {r['kept_lines']:,} lines"
        + (f"; {r['lost']} keys moved nothing within 2 s" if r["lost"] else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
