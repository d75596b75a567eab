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
# The world batch-agent: agent.js's exports plus handleBatch, which takes several queued
# messages in one call (the SDK's batch() around agent.js's handle), from an entry module made
# here. An agent that exports handleBatch itself keeps its own.
entry=".caxton-entry-$$.js"
trap 'rm -f "$entry"' EXIT
cat >"$entry" <<'JS'
import { handle } from './agent.js';
import { batch } from './caxton-agent.js';
export * from './agent.js';
export const handleBatch = batch(handle);
JS
# No wasi:http: agents have no network, and the host links only what agents may use.
"$CJS" "$entry" --wit wit -n batch-agent -d http fetch-event -o {{name}}.wasm >/dev/null
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
