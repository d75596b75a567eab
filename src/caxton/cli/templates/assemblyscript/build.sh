#!/usr/bin/env bash
# Build {{name}}.wasm with the AssemblyScript compiler (asc).
# Uses $ASC, else node_modules/.bin/asc (running `npm install` first when it is missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
asc="${ASC:-node_modules/.bin/asc}"
if [[ -z "${ASC:-}" && ! -x "$asc" ]]; then npm install --no-audit --no-fund --loglevel=error; fi
# --use abort=...: aborts go to the agent's log (the host has no env.abort import)
"$asc" agent.ts -O3 --runtime incremental --use abort=caxton/caxtonAbort -o {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
