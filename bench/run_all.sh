#!/usr/bin/env bash
# Smoke check: run every benchmark in --quick mode (a few seconds each, about 20 s in all).
# Uses ${PYTHON:-python}; run it from the virtualenv that has caxton installed. Exits non-zero
# when any benchmark fails or runs over its time limit.
set -euo pipefail

PY="${PYTHON:-$(command -v python || command -v python3)}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIMIT="${BENCH_TIMEOUT:-120}"   # seconds per benchmark

failed=0
for bench in message_path echo_roundtrip agent_to_agent agent_start agent_memory grpc_vs_rest one_way languages components tracing conversations jwt_verify auth peers; do
  echo
  if ! timeout --kill-after=10 "$LIMIT" "$PY" "$HERE/$bench.py" --quick; then
    echo "run_all: $bench FAILED" >&2
    failed=$((failed + 1))
  fi
done
echo
if (( failed )); then
  echo "run_all: $failed benchmark(s) failed" >&2
  exit 1
fi
echo "run_all: all benchmarks ran"
