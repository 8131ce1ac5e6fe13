"""Which protocol a backend speaks comes from the gateway's config (`fastcgi_pass`, `uwsgi_pass`,
`proxy_pass`), and a full listen queue is read from `ss -l`: units over the lab's own sites."""

from __future__ import annotations

import pytest

from runbook.lab import configs
from runbook.parsers import parse
from runbook.playbook.expr import _full_queues, _protocol_of


def nginx_t(site: str) -> list[dict]:
    """`nginx -T` of a gateway serving `site`, parsed, as a check's results."""
    text = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n" + site + "\n}\n"
    return [{"data": parse("nginx_config", text)}]


def host(port: int, hostname: bool = True) -> dict:
    view = {"name": "app1", "address": "198.18.0.3", "vars": {"port": port}}
    return {**view, "var_hostname": "app1.lab.internal"} if hostname else view


@pytest.mark.parametrize(
    ("style", "port", "protocol"),
    [
        ("php-tcp", 9000, "fastcgi"),
        ("uwsgi-tcp", 3031, "uwsgi"),
        ("pool-names", 8080, "http"),
        ("names-runtime", 8080, "http"),
        # the gateway's own socket service is not this backend's: it keeps its HTTP check
        ("php-socket", 8080, "http"),
        ("uwsgi-socket", 8080, "http"),
    ],
)
def test_the_protocol_comes_from_the_gateways_config(style: str, port: int, protocol: str) -> None:
    results = nginx_t(configs.nginx_site("r1", style=style))
    assert _protocol_of(results, host(port)) == protocol
    # an inventory without names: the targets on the backend's port say it
    assert _protocol_of(results, host(port, hostname=False)) == protocol


def test_a_backend_on_another_port_or_an_unknown_config_keeps_http() -> None:
    assert _protocol_of(nginx_t(configs.nginx_site("r1", style="php-tcp")), host(8080)) == "http"
    assert _protocol_of([], host(9000)) == "http"
    assert _protocol_of(None, host(9000)) == "http"


def test_a_pass_through_a_variable_gives_its_protocol() -> None:
    site = "server { listen 80; location / { set $b app1.lab.internal:9000; fastcgi_pass $b; } }"
    assert _protocol_of(nginx_t(site), host(9000)) == "fastcgi"


def test_two_protocols_on_one_port_are_not_guessed() -> None:
    site = (
        "server { listen 80; location /a { fastcgi_pass app1.lab.internal:9000; }"
        " location /b { uwsgi_pass app1.lab.internal:9000; } }"
    )
    assert _protocol_of(nginx_t(site), host(9000)) == "http"


def test_names_resolved_since_match_the_host() -> None:
    site = "server { listen 80; location / { uwsgi_pass api.internal:3031; } }"
    resolved = [{"item": "api.internal", "data": {"answers": ["198.18.0.3"]}}]
    other = {"name": "app2", "address": "198.18.0.4", "vars": {"port": 3031}}
    results = nginx_t(site + " server { listen 81; location / { proxy_pass http://other.internal:3031; } }")
    assert _protocol_of(results, host(3031, hostname=False), resolved) == "uwsgi"
    assert _protocol_of(results, other, resolved) == "http"


# `ss -ltnH` and `ss -xlpn` as the lab's hog leaves them: 2 workers busy, the queue (8) full
SS_TCP = "LISTEN 9      8      0.0.0.0:9000      0.0.0.0:*\nLISTEN 0      128    0.0.0.0:22   0.0.0.0:*\n"
SS_UNIX = (
    "Netid State  Recv-Q Send-Q Local Address:Port   Peer Address:Port Process\n"
    'u_str LISTEN 9      8      /run/php/php-fpm.sock 41 * 0 users:(("php-fpm8.2",pid=7,fd=5))\n'
)


def test_a_full_listen_queue_is_read_from_ss() -> None:
    assert _full_queues(SS_TCP) == ["0.0.0.0:9000 9/8"]
    assert _full_queues(SS_UNIX) == ["/run/php/php-fpm.sock 9/8"]
    assert _full_queues(SS_TCP.replace("LISTEN 9 ", "LISTEN 3 ")) == []
    assert _full_queues(None) == [] and _full_queues("") == []


def test_ss_listen_keeps_the_queue_and_its_limit() -> None:
    rows = parse("ss_listen", SS_TCP)["listening"]
    assert rows[0]["queued"] == 9 and rows[0]["backlog"] == 8
    assert rows[1]["queued"] == 0 and rows[1]["backlog"] == 128


def test_a_section_of_a_check_that_prints_several() -> None:
    from runbook.playbook.expr import _section

    text = (
        "== path\nf: /run/php/php-fpm.sock\n== listener\n\n"
        "== declared in\n/etc/php/8.2/fpm/php-fpm.conf\n== selinux\nnone\n"
    )
    assert _section(text, "declared in") == ["/etc/php/8.2/fpm/php-fpm.conf"]
    assert _section(text, "listener") == []
    assert _section(text, "selinux") == ["none"]
    assert _section(None, "path") == []


def lab_inventory(port: int, **extra: object):
    from runbook.inventory import Host, Inventory

    def backend(name: str, address: str) -> Host:
        v = {"port": port, "service": "php-fpm8.2", "hostname": f"{name}.lab.internal", **extra}
        return Host(name=name, address=address, roles=["backend"], vars=v)

    return Inventory(
        hosts={
            "gw1": Host(name="gw1", address="198.18.0.2", roles=["gateway"]),
            "app1": backend("app1", "198.18.0.3"),
            "app2": backend("app2", "198.18.0.4"),
        },
        vars={"public_url": "http://198.18.0.2/api/users", "request_path": "/api/users"},
    )


def planned(style: str, port: int, node: str, check: str, **extra: object) -> list:
    """The steps of `check` once the symptom node has read a gateway serving `style`."""
    from runbook.engine import Engine, Observation, RunState
    from runbook.playbook import load_playbook
    from tests.conftest import PLAYBOOK_502

    text = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n" + configs.nginx_site("r1", style=style) + "\n}\n"
    seen = Observation(
        step_id="proxy_targets-gw1", node="symptom", check="proxy_targets", host="gw1", command="nginx -T 2>&1",
        exit_status=0, stdout=text, data=parse("nginx_config", text),
    )  # fmt: skip
    engine = Engine(load_playbook(PLAYBOOK_502), lab_inventory(port, **extra))
    return [s for s in engine.plan(node, RunState(observations=[seen])) if s.check.id == check]


def test_health_checks_speak_fastcgi_to_php_fpm() -> None:
    from runbook.speak import PROGRAM

    steps = planned("php-tcp", 9000, "backend-health", "health_inside", fastcgi_script="/run/www/api.php")
    assert {s.host.name for s in steps} == {"app1", "app2"}
    for step in steps:
        assert step.request["protocol"] == "fastcgi" and step.request["address"] == "127.0.0.1:9000"
        assert step.command.startswith("python3 -c ") and PROGRAM[:40] in step.command
        assert step.command.endswith("fastcgi 127.0.0.1:9000 /health 4 /run/www/api.php")
        assert not step.command.startswith("curl")
    # called directly from the gateway, in FastCGI too
    direct = planned("php-tcp", 9000, "direct-vs-gateway", "direct_call")
    assert [s.request["address"] for s in direct] == ["198.18.0.3:9000", "198.18.0.4:9000"]
    assert all(s.request["protocol"] == "fastcgi" and s.host.name == "gw1" for s in direct)


def test_health_checks_speak_uwsgi_and_http_where_the_config_says() -> None:
    (uwsgi, *_) = planned("uwsgi-tcp", 3031, "backend-health", "health_inside")
    assert uwsgi.request["protocol"] == "uwsgi" and "script" not in uwsgi.request
    assert uwsgi.command.endswith("uwsgi 127.0.0.1:3031 /health 4")
    (http, *_) = planned("pool-names", 8080, "backend-health", "health_inside")
    assert "protocol" not in http.request and http.command.startswith("curl -sS")
    # not read yet (or not readable): HTTP, as before
    from runbook.engine import Engine, RunState
    from runbook.playbook import load_playbook
    from tests.conftest import PLAYBOOK_502

    engine = Engine(load_playbook(PLAYBOOK_502), lab_inventory(9000))
    steps = [s for s in engine.plan("backend-health", RunState()) if s.check.id == "health_inside"]
    assert steps and all(s.command.startswith("curl -sS") for s in steps)


# `namei -l /run/php/php-fpm.sock` on the lab's gateway, healthy and in php-socket-permission
NAMEI_OK = ["f: /run/php/php-fpm.sock", "drwxr-xr-x root     root     /", "drwxr-xr-x root     root     run",
            "drwxr-xr-x root     root     php", "srw-rw---- www-data www-data php-fpm.sock"]  # fmt: skip


def test_a_socket_nginx_workers_may_use() -> None:
    from runbook.playbook.expr import _socket_denied

    assert _socket_denied(NAMEI_OK, "www-data") == []
    assert _socket_denied(NAMEI_OK, "root") == []


def test_a_socket_or_directory_that_leaves_the_workers_out() -> None:
    from runbook.playbook.expr import _socket_denied

    locked = [*NAMEI_OK[:-1], "srw------- root     root     php-fpm.sock"]
    assert _socket_denied(locked, "www-data") == [
        "php-fpm.sock: srw------- root:root, www-data may not write it (unless it is in group root)"
    ]
    closed_dir = [*NAMEI_OK[:3], "drwx------ root     root     php", NAMEI_OK[-1]]
    assert _socket_denied(closed_dir, "www-data") == [
        "php: drwx------ root:root, www-data may not search it (unless it is in group root)"
    ]
    # the group of the workers' own name lets them in; other users fall back to the last triplet
    grouped = [*NAMEI_OK[:-1], "srw-rw---- root     www-data php-fpm.sock"]
    assert _socket_denied(grouped, "www-data") == [] and _socket_denied(grouped, "nginx")
    assert _socket_denied(["garbage", None], "www-data") == []
