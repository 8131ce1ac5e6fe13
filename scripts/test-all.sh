#!/usr/bin/env bash
# Install everything the tests need (Debian packages when root, Python packages in .venv)
# and run every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real parts, not mocks: sshd, nginx, dnsmasq, iptables, nft and namespaces for the live lab,
# sudo for the privilege tests, tmux and rsvg-convert for the terminal and screenshot tests.
DEBS=(openssh-server openssh-client nginx-light dnsmasq-base iptables nftables iproute2 util-linux mount procps
      curl bash sudo tmux librsvg2-bin chromium python3 python3-venv php-fpm uwsgi uwsgi-plugin-python3)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${DEBS[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "not root or no apt-get: tests that need root, sshd or the lab will skip and say why" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,serve]'

.venv/bin/ruff check runbook tests benchmarks screenshots
.venv/bin/mypy  # runbook/, configured in pyproject.toml (strict on runbook.events and runbook.walk)
.venv/bin/lint-imports

# The live lab is machine-wide: the tests must take down every lab they brought up, also when
# they fail. Whatever pytest's status, a lab namespace or process the run left behind fails it.
lab_namespaces() { { ip netns list 2>/dev/null || true; } | awk '$1 ~ /^rb-/ {print $1}' | sort; }
lab_processes() { pgrep -f 'runbook/lab/hostinit\.py' 2>/dev/null || true; }
namespaces_before=$(lab_namespaces)
status=0
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=$?
left=$(comm -13 <(printf '%s\n' "$namespaces_before") <(lab_namespaces) | sed '/^$/d')
if [ -z "$namespaces_before" ]; then processes=$(lab_processes); else processes=""; fi
if [ -n "$left" ] || [ -n "$processes" ]; then
  echo "FAIL: the tests left the live lab behind:" >&2
  [ -z "$left" ] || echo "  namespaces: $(echo $left)" >&2
  [ -z "$processes" ] || echo "  processes: $(echo $processes)" >&2
  # not removed here: another run on this machine may have brought it up meanwhile
  echo "  if it is this run's: sudo .venv/bin/python -m runbook lab down" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
