#!/usr/bin/env bash
# Build {{name}}.wasm: a cdylib for wasm32-unknown-unknown.
# Uses $CARGO (and $RUSTC) when set; else Debian's cargo and rustc when the wasm32 standard
# library is installed (apt-get install rustc cargo libstd-rust-dev-wasm32); else cargo on PATH
# (with rustup: rustup target add wasm32-unknown-unknown).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
has_wasm32() { [[ -d "$("$1" --print sysroot 2>/dev/null)/lib/rustlib/wasm32-unknown-unknown" ]]; }
if [[ -n "${CARGO:-}" ]]; then :
elif [[ -x /usr/bin/cargo ]] && has_wasm32 /usr/bin/rustc; then CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc
elif command -v cargo >/dev/null; then CARGO=cargo
else echo "build.sh: cargo not found (apt-get install rustc cargo libstd-rust-dev-wasm32)" >&2; exit 1
fi
[[ -n "${RUSTC:-}" ]] && export RUSTC
"$CARGO" build --quiet --offline --release --target wasm32-unknown-unknown
cp target/wasm32-unknown-unknown/release/{{crate}}.wasm {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
