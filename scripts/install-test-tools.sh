#!/usr/bin/env bash
# System tools the tests use that pip cannot install. Idempotent: does nothing when present.
#   - promtool (Debian package prometheus), which checks the /metrics exposition;
#   - java and javac (Debian package openjdk-17-jdk-headless), which run the real JADE platform
#     the FIPA interoperability tests talk to (tests/integration/test_jade.py).
# Then it says where the JADE jar is: in $CAXTON_JADE_DIR when set, else in peers/jade or
# shared/peers/jade next to the checkout (the JADE tests fail without it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_install() {  # PACKAGE...: install Debian packages (as root), waiting for the dpkg lock
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-tools: missing $*; run: sudo apt-get install $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 install --no-install-recommends)
  "${apt[@]}" "$@" > /dev/null 2>&1 || {
    apt-get -q -o DPkg::Lock::Timeout=600 update > /dev/null
    "${apt[@]}" "$@" > /dev/null
  }
}

command -v promtool > /dev/null 2>&1 || apt_install prometheus
# The docs test runs the pages' curl and jq commands.
command -v curl > /dev/null 2>&1 || apt_install curl
command -v jq > /dev/null 2>&1 || apt_install jq
if ! command -v java > /dev/null 2>&1 || ! command -v javac > /dev/null 2>&1; then
  apt_install openjdk-17-jdk-headless
fi

jade=""
if [[ -n "${CAXTON_JADE_DIR:-}" ]]; then
  candidates=("$CAXTON_JADE_DIR")
else
  candidates=()
  up="$ROOT"
  while [[ "$up" != "/" ]]; do   # beside the checkout, or beside a directory above it
    up="$(dirname "$up")"
    candidates+=("$up/peers/jade" "$up/shared/peers/jade")
  done
fi
for dir in "${candidates[@]}"; do
  if [[ -f "$dir/jade-4.6.5.jar" && -f "$dir/commons-codec-1.18.0.jar" ]]; then
    jade="$(cd "$dir" && pwd)"
    break
  fi
done
if [[ -n "$jade" ]]; then
  echo "install-test-tools: JADE 4.6.5 in $jade; $(javac -version 2>&1)"
else
  echo "install-test-tools: JADE 4.6.5 not found (set CAXTON_JADE_DIR to the directory with" \
       "jade-4.6.5.jar and commons-codec-1.18.0.jar); the JADE tests will fail" >&2
fi
