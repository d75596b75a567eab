#!/usr/bin/env bash
# Install the tools that build WebAssembly *component* agents (docs/agents/python.md,
# docs/agents/javascript.md). Idempotent: a tool already at the pinned version is left alone.
#   componentize-py   pip, into the active Python environment (${PYTHON:-python3} -m pip)
#   componentize-js   npm, into .cache/npm-components/ (git-ignored), with preview2-shim
# Called by scripts/install-toolchains.sh; safe to run by hand.
set -euo pipefail

PY="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NPM_DIR="$ROOT/.cache/npm-components"

COMPONENTIZE_PY_VERSION="0.25.1"
COMPONENTIZE_JS_VERSION="0.23.0"
PREVIEW2_SHIM_VERSION="0.17.9"

installed() { "$PY" -c 'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null; }
if [[ "$(installed || true)" != "$COMPONENTIZE_PY_VERSION" ]]; then
  "$PY" -m pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi
echo "install-component-tools: componentize-py $(installed)"

if ! command -v npm >/dev/null; then
  echo "install-component-tools: npm not found; JavaScript agents need Node.js >= 18 and npm" >&2
  exit 1
fi
mkdir -p "$NPM_DIR"
want="@bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION @bytecodealliance/preview2-shim@$PREVIEW2_SHIM_VERSION"
stamp="$NPM_DIR/.installed"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -d "$NPM_DIR/node_modules/@bytecodealliance/componentize-js" ]]; then
  [[ -f "$NPM_DIR/package.json" ]] || echo '{"private": true, "type": "module"}' >"$NPM_DIR/package.json"
  # shellcheck disable=SC2086  # $want is two package specs
  (cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error --save-exact $want)
  echo "$want" >"$stamp"
fi
echo "install-component-tools: componentize-js $COMPONENTIZE_JS_VERSION in ${NPM_DIR#"$ROOT"/}"
