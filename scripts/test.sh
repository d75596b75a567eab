#!/usr/bin/env bash
# Install everything the tests need and run them: lint, types, unit and integration tests.
# Uses the active virtualenv, or creates .venv. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -z "${VIRTUAL_ENV:-}" ]]; then
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  # shellcheck disable=SC1091
  source .venv/bin/activate
fi
python -m pip install --quiet --disable-pip-version-check -e '.[test]'

bash scripts/install-test-tools.sh
PYTHON=python bash scripts/install-toolchains.sh   # C, Rust, Zig, Go, AssemblyScript
PYTHON=python bash scripts/install-component-tools.sh   # componentize-py, componentize-js
PYTHON=python bash scripts/build-examples.sh
# The actor peers bench/peers.py compares against (pykka, Thespian, SPADE), each in its own
# virtualenv under ~/.cache/caxton-bench/venvs (or $CAXTON_BENCH_VENVS); nothing when present.
python bench/peers.py --install-only
ruff check src tests
mypy
python -m pytest "$@"
