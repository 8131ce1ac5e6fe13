"""Lab parts that need neither root nor namespaces: the backend app, configs, the CLI."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runbook.inventory import load_inventory
from runbook.lab import cli, configs
from runbook.lab import lab as labmod
from runbook.lab.backend_app import AppServer
from runbook.lab.faults import FAULTS


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    control = tmp_path / "control.json"
    server = AppServer(("127.0.0.1", 0), control, "app-test")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", control
    server.shutdown()
    server.server_close()
    thread.join()


def raw_get(base: str, path: str = "/api/users") -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def test_app_healthy(app: tuple[str, Path]) -> None:
    base, _ = app
    resp = httpx.get(base + "/api/users")
    assert resp.status_code == 200 and resp.json()["served_by"] == "app-test"
    assert httpx.get(base + "/health").json()["status"] == "ok"
    assert httpx.get(base + "/nope").status_code == 404


def test_app_crash_closes_without_answering(app: tuple[str, Path]) -> None:
    base, control = app
    control.write_text(json.dumps({"mode": "crash"}))
    assert raw_get(base) == b""


def test_app_malformed_headers(app: tuple[str, Path]) -> None:
    base, control = app
    control.write_text(json.dumps({"mode": "malformed"}))
    raw = raw_get(base)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nX-Request Trace: " in raw and b"\r\nthis is not a header\r\n" in raw
    with pytest.raises(httpx.HTTPError):
        httpx.get(base + "/api/users")


def test_app_slow(app: tuple[str, Path]) -> None:
    base, control = app
    control.write_text(json.dumps({"mode": "slow", "delay": 0.6}))
    started = time.monotonic()
    assert httpx.get(base + "/health", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.6
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(base + "/health", timeout=0.2)


def test_nginx_site_points_bad_hosts_at_the_old_port() -> None:
    healthy = configs.nginx_site("r1")
    assert "resolver 198.18.0.53 valid=1s" in healthy
    assert "app1.lab.internal:8080;" in healthy and "app2.lab.internal:8080;" in healthy
    assert "proxy_read_timeout 3s;" in healthy and "proxy_connect_timeout 2s;" in healthy
    bad = configs.nginx_site("r2", ["app2"])
    assert "app1.lab.internal:8080;" in bad and "app2.lab.internal:8081;" in bad


def test_dns_records_leave_out_missing_names() -> None:
    records = configs.dns_records(["app1"])
    assert "app1.lab.internal" not in records
    assert "198.18.0.4\tapp2.lab.internal" in records
    assert "198.18.0.2\tgw1.lab.internal" in records


def test_inventory_text_loads(tmp_path: Path) -> None:
    lab = labmod.Lab(tmp_path)
    path = tmp_path / "inventory.yaml"
    path.write_text(lab.inventory_text())
    inv = load_inventory(path)
    assert inv.hosts["gw1"].roles == ["gateway"]
    assert inv.hosts["dns1"].address == "198.18.0.53"
    assert inv.hosts["app2"].vars["hostname"] == "app2.lab.internal"
    assert inv.hosts["app2"].identity_file == str(tmp_path / "id_ed25519")


def test_faults_lists_each_fault_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["faults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_not_root_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(labmod.sys, "platform", "linux")
    monkeypatch.setattr(labmod.os, "geteuid", lambda: 1000)
    assert cli.main(["up"]) == 2
    assert "needs root" in capsys.readouterr().err


def test_not_linux_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(labmod.sys, "platform", "darwin")
    assert cli.main(["status"]) == 2
    assert "needs Linux" in capsys.readouterr().err


def test_unknown_fault_and_bad_host_are_usage_errors() -> None:
    assert cli.main(["fault", "meteor-strike"]) == 2
    assert cli.main(["fault", "backend-down", "--host", "gw1"]) == 2
    assert cli.main([]) == 2
