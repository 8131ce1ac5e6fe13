"""The live lab, for real: namespaces, nginx, backends, dnsmasq, sshd, iptables.

Each fault is checked from a client's side (the status through the gateway) and from the
gateway's side (its error log, read over SSH with strict host-key checking).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

import httpx
import pytest

from runbook.inventory import load_inventory
from runbook.lab import cli
from runbook.lab.faults import FAULTS
from runbook.lab.lab import Lab, dns_query_a
from runbook.lab.topology import BRIDGE, HOSTS, NETNS_NAMES, PUBLIC_URL
from tests.lab.conftest import lab_skip_reason, ssh

pytestmark = [
    pytest.mark.lab,
    pytest.mark.root,
    pytest.mark.skipif(lab_skip_reason() is not None, reason=lab_skip_reason() or ""),
]

FAULT_NAMES = [name for name in FAULTS if name != "healthy"]


def get(url: str = PUBLIC_URL) -> httpx.Response:
    return httpx.get(url, timeout=15)


def gateway_error_log(lab: Lab) -> str:
    result = ssh(lab, "gw1", "tail -n 50 /var/log/nginx/error.log")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_up_twice_is_safe(healthy_lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    lab = healthy_lab
    pids = {h: lab.init_pid(h) for h in HOSTS}
    assert cli.main(["up"]) == 0
    out = capsys.readouterr().out
    assert str(lab.inventory_path) in out and str(lab.known_hosts_path) in out
    # the second `up` found the lab running and left it alone
    assert {h: lab.init_pid(h) for h in HOSTS} == pids
    assert get().status_code == 200


def test_status_reports_hosts_and_fault(healthy_lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "lab: up" in out and "fault: healthy" in out
    status = healthy_lab.status()
    assert status["up"] and status["bridge"]
    assert status["hosts"]["gw1"]["running"] == ["nginx", "sshd"]
    assert status["hosts"]["app1"]["running"] == ["app", "sshd"]
    assert status["hosts"]["dns1"]["running"] == ["dnsmasq", "sshd"]


def test_inventory_is_ready_to_use(lab: Lab) -> None:
    inv = load_inventory(lab.inventory_path)
    assert set(inv.hosts) == {"gw1", "app1", "app2", "dns1"}
    assert [h.name for h in inv.with_role("backend")] == ["app1", "app2"]
    app1 = inv.hosts["app1"]
    assert app1.address == "198.18.0.3" and app1.user == "root"
    assert app1.vars == {
        "service": "app",
        "port": 8080,
        "health_path": "/health",
        "hostname": "app1.lab.internal",
    }
    assert app1.identity_file == str(lab.key_path)
    assert app1.known_hosts == str(lab.known_hosts_path)
    assert inv.vars["public_url"] == PUBLIC_URL
    assert inv.vars["upstream_names"] == ["app1.lab.internal", "app2.lab.internal"]
    for host in inv.hosts.values():
        assert host.address.startswith("198.18.")


def test_each_host_sees_only_its_own_processes(healthy_lab: Lab) -> None:
    expected = {
        "gw1": {"nginx"},
        "app1": {"app"},
        "app2": {"app"},
        "dns1": {"dnsmasq"},
    }
    everything = {"nginx", "app", "dnsmasq"}
    for host, mine in expected.items():
        result = ssh(healthy_lab, host, "hostname; ps -e -o pid=,comm=")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.split("\n")
        assert lines[0] == host
        comms = {line.split()[1] for line in lines[1:] if line.strip()}
        assert mine <= comms, (host, comms)
        assert not (everything - mine) & comms, (host, comms)
        assert "sshd" in comms
        pids = [int(line.split()[0]) for line in lines[1:] if line.strip()]
        assert min(pids) == 1 and len(pids) < 20  # its own PID namespace


def test_backend_service_is_found_by_name(healthy_lab: Lab) -> None:
    result = ssh(healthy_lab, "app1", "pgrep -x app && ss -ltn")
    assert result.returncode == 0, result.stderr
    assert ":8080" in result.stdout


def test_gateway_resolves_upstreams_through_dns1(healthy_lab: Lab) -> None:
    result = ssh(healthy_lab, "gw1", "cat /etc/resolv.conf; getent hosts app2.lab.internal")
    assert result.returncode == 0, result.stderr
    assert "nameserver 198.18.0.53" in result.stdout
    assert re.search(r"^198\.18\.0\.4\s+app2\.lab\.internal", result.stdout, re.M)
    config = ssh(healthy_lab, "gw1", "nginx -T 2>/dev/null")
    assert "resolver 198.18.0.53" in config.stdout
    assert "app1.lab.internal:8080" in config.stdout


def test_healthy_lab_answers_200(healthy_lab: Lab) -> None:
    statuses = {get().status_code for _ in range(6)}
    assert statuses == {200}
    assert get("http://198.18.0.2/health").json()["status"] == "ok"
    # the backends also answer directly
    for addr in ("198.18.0.3", "198.18.0.4"):
        assert get(f"http://{addr}:8080/api/users").status_code == 200


@pytest.mark.parametrize("name", FAULT_NAMES)
def test_fault_is_what_a_client_and_the_gateway_see(lab: Lab, name: str) -> None:
    fault = FAULTS[name]
    result = lab.set_fault(name)
    targets = ["app1", "app2"] if fault.per_backend else []
    assert result.hosts == targets
    assert result.client_statuses == [fault.client_status]
    assert get().status_code == fault.client_status
    log = gateway_error_log(lab)
    if fault.log_pattern:
        assert re.search(fault.log_pattern, log), log
    else:  # nginx logs nothing of it: a healthy variant, or a 502 a backend answered itself
        assert "[error]" not in log, log
    assert lab.status()["fault"] == {"fault": name, "hosts": targets}


def test_faults_reset_to_healthy(lab: Lab) -> None:
    lab.set_fault("firewall")
    lab.set_fault("dns-failure")
    result = lab.set_fault("healthy")
    assert result.client_statuses == [200]
    assert get().status_code == 200
    # a fresh incident: the log was rotated, the healthy probe logged no error
    assert "[error]" not in gateway_error_log(lab)
    fw = ssh(lab, "app1", "iptables -S INPUT")
    assert "DROP" not in fw.stdout
    assert dns_query_a("198.18.0.53", "app1.lab.internal") == (0, ["198.18.0.3"])


def test_backend_down_stops_the_service(lab: Lab) -> None:
    lab.set_fault("backend-down", ["app2"])
    assert ssh(lab, "app2", "pgrep -x app").returncode == 1
    assert ssh(lab, "app1", "pgrep -x app").returncode == 0


def test_firewall_rule_is_visible_on_the_backend(lab: Lab) -> None:
    lab.set_fault("firewall", ["app1"])
    rules = ssh(lab, "app1", "iptables -S INPUT").stdout
    assert "-A INPUT -s 198.18.0.2/32 -p tcp -m tcp --dport 8080 -j DROP" in rules
    assert "DROP" not in ssh(lab, "app2", "iptables -S INPUT").stdout


def test_dns_wrong_address_on_one_name(lab: Lab) -> None:
    lab.set_fault("dns-wrong-address", ["app2"])
    assert dns_query_a("198.18.0.53", "app2.lab.internal") == (0, ["198.19.0.4"])
    result = ssh(lab, "gw1", "getent hosts app2.lab.internal app1.lab.internal")
    assert "198.19.0.4" in result.stdout and "198.18.0.3" in result.stdout


def test_dns_down_stops_dnsmasq(lab: Lab) -> None:
    lab.set_fault("dns-down")
    assert dns_query_a("198.18.0.53", "app1.lab.internal", timeout=0.5) is None
    assert ssh(lab, "dns1", "pgrep -x dnsmasq").returncode == 1
    lab.set_fault("healthy")
    assert dns_query_a("198.18.0.53", "app1.lab.internal") == (0, ["198.18.0.3"])


def test_dns_failure_on_one_name(lab: Lab) -> None:
    lab.set_fault("dns-failure", ["app1"])
    assert dns_query_a("198.18.0.53", "app1.lab.internal") == (3, [])  # NXDOMAIN
    assert dns_query_a("198.18.0.53", "app2.lab.internal") == (0, ["198.18.0.4"])


@pytest.mark.parametrize("name", ["backend-down", "backend-crash", "gateway-misconfigured"])
def test_one_bad_backend_fails_some_requests(lab: Lab, name: str) -> None:
    """With one bad backend of two, each request lands on one name (no retry to the other)."""
    result = lab.set_fault(name, ["app1"])
    assert result.hosts == ["app1"]
    assert result.client_statuses[-1] == FAULTS[name].client_status
    statuses = [get().status_code for _ in range(24)]
    assert set(statuses) == {200, FAULTS[name].client_status}, statuses
    log = gateway_error_log(lab)
    assert re.search(FAULTS[name].log_pattern or "", log), log
    assert 'upstream: "http://198.18.0.3:' in log
    assert "198.18.0.4" not in log


def test_fault_cli(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fault", "malformed-response", "--host", "app2"]) == 0
    assert "malformed-response (app2)" in capsys.readouterr().out
    assert cli.main(["fault", "no-such-fault"]) == 2
    assert cli.main(["fault", "healthy"]) == 0
    assert get().status_code == 200


def test_up_rebuilds_after_a_host_crashed(own_lab: Lab) -> None:
    lab = own_lab
    pid = lab.init_pid("app1")
    assert pid
    os.kill(pid, signal.SIGKILL)  # the whole PID namespace of app1 dies with its init
    deadline = time.monotonic() + 5
    while lab.init_pid("app1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not lab.is_up()
    lab.up()
    assert lab.is_up()
    assert get().status_code == 200


def test_down_cleans_up_after_the_state_dir_is_lost(own_lab: Lab) -> None:
    lab = own_lab
    # as after a crash that lost /run/runbook-lab: namespaces and processes remain
    shutil.rmtree(lab.state)
    assert lab.init_pid("gw1")
    lab.down()
    assert lab.leftovers() == []
    lab.up()
    assert get().status_code == 200


def test_down_leaves_nothing_behind(own_lab: Lab) -> None:
    lab = own_lab
    assert lab.down()
    assert lab.leftovers() == []
    assert not set(NETNS_NAMES) & set(lab.netns_list())
    assert not lab.link_exists(BRIDGE)
    assert lab.stray_processes() == []
    assert not lab.state.exists()
    # bring it back for whatever runs after this module in the session
    lab.up()
    assert get().status_code == 200
