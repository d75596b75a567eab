#!/usr/bin/env bash
# Copy the SDKs (sdk/<language>/) into the `caxton agents new` templates
# (src/caxton/cli/templates/<language>/), which ship a copy so that a new project builds on its
# own. tests/unit/test_scaffold.py fails when a copy is out of date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdk"
T="$ROOT/src/caxton/cli/templates"

copy() { mkdir -p "$(dirname "$T/$2")"; cp "$SDK/$1" "$T/$2"; }

copy c/caxton.h c/caxton.h
copy c/caxton.c c/caxton.c
copy rust/Cargo.toml rust/caxton/Cargo.toml
copy rust/src/lib.rs rust/caxton/src/lib.rs
copy rust/src/json.rs rust/caxton/src/json.rs
copy zig/caxton.zig zig/caxton.zig
copy go/go.mod go/caxton/go.mod
copy go/caxton.go go/caxton/caxton.go
copy go/json.go go/caxton/json.go
copy assemblyscript/caxton.ts assemblyscript/caxton.ts
copy python/caxton_agent/__init__.py python/caxton_agent/__init__.py
copy javascript/caxton-agent.js javascript/caxton-agent.js
mkdir -p "$T/python/wit" "$T/javascript/wit"
cp "$ROOT/wit/caxton-agent.wit" "$T/python/wit/caxton-agent.wit"
cp "$ROOT/wit/caxton-agent.wit" "$T/javascript/wit/caxton-agent.wit"
echo "sync-templates: SDK copies updated in ${T#"$ROOT"/}"
