#!/usr/bin/env bash
# Build {{name}}.wasm: a WebAssembly component made from agent.js by componentize-js.
# Uses $CJS when set, else ./node_modules (npm installs componentize-js there the first time).
# Needs Node.js 20 or later.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
CJS="${CJS:-node_modules/.bin/componentize-js}"
if [[ ! -x "$CJS" ]]; then
  npm install --no-save --silent @bytecodealliance/componentize-js@0.23.0 \
    @bytecodealliance/preview2-shim@0.17.9
fi
# No wasi:http: agents have no network, and the host links only what agents may use.
"$CJS" agent.js --wit wit -n agent -d http fetch-event -o {{name}}.wasm >/dev/null
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
