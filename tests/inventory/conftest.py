"""Print the differential agreement counts at the end of every run (not only with -s)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from . import test_ansible_differential as ansible
    from . import test_ssh_differential as ssh

    if ssh.AGREE["cases"] or ansible.AGREE["cases"]:
        terminalreporter.section("inventory differential agreement")
        terminalreporter.write_line(
            f"ssh_config: {len(ssh.CASES)} cases + {len(ssh.JUMP_CASES)} jump chains; agreeing with ssh -G: {ssh.AGREE}"
        )
        terminalreporter.write_line(
            f"Ansible: {len(ansible.CASES)} inventories; agreeing with ansible-inventory --list: {ansible.AGREE}"
        )
