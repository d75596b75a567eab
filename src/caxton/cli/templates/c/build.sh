#!/usr/bin/env bash
# Build {{name}}.wasm: freestanding C (no libc) for wasm32 with zig cc.
# Uses $ZIG, else `zig` on PATH, else the PyPI package (pip install ziglang).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -n "${ZIG:-}" ]]; then read -ra zig <<<"$ZIG"
elif command -v zig >/dev/null; then zig=(zig)
elif python3 -c 'import ziglang' 2>/dev/null; then zig=(python3 -m ziglang)
else echo "build.sh: zig not found: pip install ziglang (or set ZIG)" >&2; exit 1
fi
"${zig[@]}" cc --target=wasm32-freestanding -O2 -nostdlib -ffreestanding -fno-sanitize=all \
  -Wall -Wextra -Werror -Wl,--no-entry -Wl,-z,stack-size=65536 -Wl,--strip-all \
  agent.c caxton.c -o {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
