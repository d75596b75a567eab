#!/usr/bin/env bash
# Build {{name}}.wasm with zig build-exe (wasm32-freestanding).
# Uses $ZIG, else `zig` on PATH, else the PyPI package (pip install ziglang). Tested with 0.17.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -n "${ZIG:-}" ]]; then read -ra zig <<<"$ZIG"
elif command -v zig >/dev/null; then zig=(zig)
elif python3 -c 'import ziglang' 2>/dev/null; then zig=(python3 -m ziglang)
else echo "build.sh: zig not found: pip install ziglang (or set ZIG)" >&2; exit 1
fi
"${zig[@]}" build-exe -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall -fstrip \
  --dep caxton -Mroot=agent.zig -Mcaxton=caxton.zig -femit-bin={{name}}.wasm
rm -f {{name}}.wasm.o
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
