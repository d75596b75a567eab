#!/usr/bin/env bash
# System tools the tests use that pip cannot install: promtool (Debian package prometheus),
# which checks the /metrics exposition. Idempotent: does nothing when already present.
set -euo pipefail
if ! command -v promtool > /dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends prometheus > /dev/null 2>&1 || {
      apt-get update -q > /dev/null
      apt-get install -y -q --no-install-recommends prometheus > /dev/null
    }
  else
    echo "install-test-tools: promtool missing and not root; run: sudo apt-get install prometheus" >&2
    exit 1
  fi
fi
