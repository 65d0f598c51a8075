#!/usr/bin/env bash
# Make a fresh Debian machine (Python 3.11) ready: Prometheus + promtool for the demo and the
# tests, and a virtualenv in .venv with the package and its dev tools. Safe to re-run.
# The apt step runs only for what is missing: with prometheus and promtool on PATH (and python3-venv
# installed), no root or sudo is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs apt-get as root, through sudo when there is one; otherwise says what to install and stops.
apt_install() {
  local packages="$*" sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "bootstrap: needs the Debian package(s) '$packages', and installing them needs root: ask an" \
           "administrator to run 'apt-get install $packages' (or put the programs on PATH), then re-run" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "bootstrap: installing Debian's prometheus package (prometheus + promtool)" >&2
  apt_install prometheus
  # The package also starts a system-wide Prometheus service (port 9090). The demo and the tests
  # start their own; stop that one where systemd runs (`sudo systemctl enable --now prometheus` to keep it).
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    echo "bootstrap: stopping and disabling the system-wide Prometheus service the package started" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "bootstrap: installing python3-venv" >&2
    apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi
# pip's chatter goes to a log that is shown only when the install fails.
log=.venv/bootstrap-pip.log
if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e '.[dev]'; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "bootstrap: pip install failed (log above, also in $log)" >&2
  exit 1
fi
