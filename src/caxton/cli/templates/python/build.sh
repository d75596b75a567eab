#!/usr/bin/env bash
# Build {{name}}.wasm: a WebAssembly component made from app.py by componentize-py.
# Uses $PYTHON (default python3), which needs: pip install componentize-py==0.25.1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import componentize_py' 2>/dev/null; then
  echo "build.sh: componentize-py not found: $PY -m pip install componentize-py==0.25.1" >&2
  exit 1
fi
# The world batch-agent: the SDK's serve() also takes several queued messages in one call.
"$PY" -c 'import componentize_py; componentize_py.script()' -q -d wit -w batch-agent \
  componentize app -p . -o {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
