#!/usr/bin/env bash
# Build the example agents in examples/agents/ to WebAssembly modules next to their sources:
#   examples/agents/wat/*.wat -> *.wasm   (wasmtime.wat2wasm)
#   examples/agents/c/*.c     -> *.wasm   (zig cc, wasm32-freestanding, no libc)
# Needs the Python packages `wasmtime` and `ziglang` (both in the `test` extra). The interpreter
# is ${PYTHON:-python3}. A module newer than its source (and than this script) is left alone.
set -euo pipefail

PY="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/scripts/build-examples.sh"
AGENTS="$ROOT/examples/agents"

CFLAGS=(
  --target=wasm32-freestanding -O2 -nostdlib -ffreestanding -fno-sanitize=all
  -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--export=handle -Wl,--export=alloc
  -Wl,-z,stack-size=65536          # 64 KiB stack; the heap (alloc) starts above it
  -Wl,--strip-all
)

# up_to_date OUT SRC: OUT exists and is newer than SRC and than this script
up_to_date() { [[ -f "$1" && "$1" -nt "$2" && "$1" -nt "$SELF" ]]; }

built=0
shopt -s nullglob

for src in "$AGENTS"/wat/*.wat; do
  out="${src%.wat}.wasm"
  up_to_date "$out" "$src" && continue
  # Write to a temporary file first so that a failed build never leaves a fresh-looking module.
  "$PY" -c 'import sys, wasmtime
with open(sys.argv[1], encoding="utf-8") as f:
    wasm = wasmtime.wat2wasm(f.read())
with open(sys.argv[2], "wb") as f:
    f.write(wasm)' "$src" "$out.tmp" || { rm -f "$out.tmp"; echo "build-examples: FAILED $src" >&2; exit 1; }
  mv -f "$out.tmp" "$out"
  echo "built ${out#"$ROOT"/} ($(wc -c <"$out") bytes)"
  built=$((built + 1))
done

for src in "$AGENTS"/c/*.c; do
  out="${src%.c}.wasm"
  up_to_date "$out" "$src" && continue
  "$PY" -m ziglang cc "${CFLAGS[@]}" "$src" -o "$out.tmp" \
    || { rm -f "$out.tmp"; echo "build-examples: FAILED $src" >&2; exit 1; }
  mv -f "$out.tmp" "$out"
  echo "built ${out#"$ROOT"/} ($(wc -c <"$out") bytes)"
  built=$((built + 1))
done

echo "build-examples: $built module(s) built, others up to date"
