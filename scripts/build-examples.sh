#!/usr/bin/env bash
# Build the example agents in examples/agents/ to WebAssembly modules next to their sources:
#
#   wat             wat/*.wat             -> wat/*.wasm             (wasmtime.wat2wasm)
#   c               c/*.c                 -> c/*.wasm               (zig cc, wasm32-freestanding, no
#                                                                    libc; + sdk/c when it includes
#                                                                    caxton.h)
#   c-wasi          c-wasi/*.c            -> c-wasi/*.wasm          (zig cc, wasm32-wasi reactor,
#                                                                    libc, + sdk/c with malloc)
#   rust            rust/<crate>/         -> rust/<crate>.wasm      (cargo, wasm32-unknown-unknown)
#   zig             zig/*.zig             -> zig/*.wasm             (zig build-exe + sdk/zig)
#   go              go/<pkg>/             -> go/<pkg>.wasm          (go, wasip1 c-shared + sdk/go)
#   assemblyscript  assemblyscript/*.ts   -> assemblyscript/*.wasm  (asc + sdk/assemblyscript)
#
# Usage: scripts/build-examples.sh [LANG...]
#   With no LANG every language is built, and a language whose toolchain is missing is skipped
#   with a warning (scripts/install-toolchains.sh installs them), and the component agents are
#   built too (scripts/build-components.sh). A LANG named explicitly must build, or the script
#   fails.
#
# Caching: a module newer than its sources (its SDK, and this script) is left alone, so a second
# run takes about a second. Before compiling, the script also looks in a content-addressed
# cache, ${CAXTON_BUILD_CACHE:-~/.cache/caxton/wasm}, keyed by the sources, the flags and the
# compiler's version, so a fresh clone on the same machine (CI) copies instead of compiling.
# CAXTON_BUILD_CACHE=off disables it. Python tools use ${PYTHON:-python3}.
set -euo pipefail

PY="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/scripts/build-examples.sh"
AGENTS="$ROOT/examples/agents"
SDK="$ROOT/sdk"
# shellcheck source=scripts/toolchains.sh
source "$ROOT/scripts/toolchains.sh"
CACHE="${CAXTON_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caxton/wasm}"

ALL=(wat c c-wasi rust zig go assemblyscript)
explicit=0
langs=()
for arg in "$@"; do
  case "$arg" in
    as) langs+=(assemblyscript) ;;
    wat|c|c-wasi|rust|zig|go|assemblyscript) langs+=("$arg") ;;
    -h|--help) sed -n '2,25p' "$SELF"; exit 0 ;;
    *) echo "build-examples: unknown language '$arg' (one of: ${ALL[*]})" >&2; exit 2 ;;
  esac
done
if (( ${#langs[@]} )); then explicit=1; else langs=("${ALL[@]}"); fi

built=0 cached=0 skipped=()
shopt -s nullglob

# stale OUT DEP...: OUT is missing, or a file under the DEPs (or this script or toolchains.sh)
# is newer. Built modules (*.wasm), READMEs (*.md) and Cargo.lock are not dependencies.
stale() {
  local out="$1"
  shift
  [[ -f "$out" ]] || return 0
  [[ -n "$(find "$@" "$SELF" "$ROOT/scripts/toolchains.sh" -type f ! -name '*.wasm' ! -name '*.md' \
            ! -name Cargo.lock -newer "$out" -print -quit 2>/dev/null)" ]]
}

# cache_key TAG DEP...: a hash of TAG (flags, compiler version) and the DEPs' paths and bytes.
cache_key() {
  local tag="$1"
  shift
  {
    printf '%s\n' "$tag"
    find "$@" -type f ! -name '*.wasm' ! -name '*.md' ! -name Cargo.lock -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' f; do printf '%s\n' "${f#"$ROOT"/}"; cat "$f"; done
  } | sha256sum | cut -c1-32
}

# from_cache OUT KEY: copy a cached module into place (true when there was one).
from_cache() {
  [[ "$CACHE" != off && -f "$CACHE/$2.wasm" ]] || return 1
  cp "$CACHE/$2.wasm" "$1.$$.tmp" && mv -f "$1.$$.tmp" "$1"
  echo "cached ${1#"$ROOT"/} ($(wc -c <"$1") bytes)"
  cached=$((cached + 1))
}

to_cache() {
  [[ "$CACHE" != off ]] || return 0
  if mkdir -p "$CACHE" && cp "$1" "$CACHE/$2.wasm.$$"; then
    mv -f "$CACHE/$2.wasm.$$" "$CACHE/$2.wasm"
  fi
}

# done_built OUT KEY: report a freshly built module and remember it in the cache.
done_built() {
  echo "built ${1#"$ROOT"/} ($(wc -c <"$1") bytes)"
  to_cache "$1" "$2"
  built=$((built + 1))
}

fail() { echo "build-examples: FAILED $*" >&2; exit 1; }

# need TOOL LANG: the toolchain is there; else skip the language (or fail when it was named).
need() {
  if "tc_$1"; then return 0; fi
  if (( explicit )); then
    fail "$2: toolchain '$1' not found (run scripts/install-toolchains.sh)"
  fi
  echo "build-examples: skipping $2: toolchain '$1' not found (run scripts/install-toolchains.sh)" >&2
  skipped+=("$2")
  return 1
}

# ----------------------------------------------------------------------------------------------
build_wat() {
  local src out key tmp
  for src in "$AGENTS"/wat/*.wat; do
    out="${src%.wat}.wasm"
    stale "$out" "$src" || continue
    key="$(cache_key "wat" "$src")"
    from_cache "$out" "$key" && continue
    tmp="$out.$$.tmp"   # unique: two builds may run at once (say, two test sessions)
    # Write to a temporary file first so that a failed build never leaves a fresh-looking module.
    "$PY" -c 'import sys, wasmtime
with open(sys.argv[1], encoding="utf-8") as f:
    wasm = wasmtime.wat2wasm(f.read())
with open(sys.argv[2], "wb") as f:
    f.write(wasm)' "$src" "$tmp" || { rm -f "$tmp"; fail "$src"; }
    mv -f "$tmp" "$out"
    done_built "$out" "$key"
  done
}

# shellcheck disable=SC2054  # the commas belong to -Wl, flags
C_FLAGS=(
  --target=wasm32-freestanding -O2 -nostdlib -ffreestanding -fno-sanitize=all
  -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--export=handle -Wl,--export=alloc
  -Wl,-z,stack-size=65536          # 64 KiB stack; the heap (alloc) starts above it
  -Wl,--strip-all
)
# shellcheck disable=SC2054
C_WASI_FLAGS=(
  --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -DCAXTON_USE_MALLOC
  -Wl,-z,stack-size=65536          # zig's default stack (8 MiB+) would not fit a 16 MiB limit
  -Wl,--strip-all
)

# build_c DIR FLAGS...: every DIR/*.c to DIR/*.wasm, with sdk/c when it includes caxton.h.
build_c() {
  local dir="$1" src out key deps extra version tmp
  shift
  version="$(tc_version zig)"
  for src in "$AGENTS/$dir"/*.c; do
    out="${src%.c}.wasm"
    deps=("$src") extra=()
    if grep -q '#include "caxton.h"' "$src"; then
      deps+=("$SDK/c") extra=(-I"$SDK/c" "$SDK/c/caxton.c")
    fi
    stale "$out" "${deps[@]}" || continue
    key="$(cache_key "c zig $version $* ${extra[*]}" "${deps[@]}")"
    from_cache "$out" "$key" && continue
    tmp="$out.$$.tmp"   # unique: two builds may run at once (say, two test sessions)
    $ZIG cc "$@" "$src" "${extra[@]}" -o "$tmp" || { rm -f "$tmp"; fail "$src"; }
    mv -f "$tmp" "$out"
    done_built "$out" "$key"
  done
}

build_rust() {
  local dir="$AGENTS/rust" crates=() crate stale_any=0 key version
  for crate in "$dir"/*/Cargo.toml; do crates+=("$(basename "$(dirname "$crate")")"); done
  (( ${#crates[@]} )) || return 0
  for crate in "${crates[@]}"; do
    stale "$dir/$crate.wasm" "$dir" "$SDK/rust" && stale_any=1
  done
  (( stale_any )) || return 0
  version="$(tc_version rust)"
  key="$(cache_key "rust $version" "$dir" "$SDK/rust")"
  local hits=0
  for crate in "${crates[@]}"; do
    [[ "$CACHE" != off && -f "$CACHE/$key-$crate.wasm" ]] && hits=$((hits + 1))
  done
  if (( hits == ${#crates[@]} )); then
    for crate in "${crates[@]}"; do from_cache "$dir/$crate.wasm" "$key-$crate"; done
    return 0
  fi
  local target="${CARGO_TARGET_DIR:-$ROOT/.cache/cargo-target}"
  (cd "$dir" && CARGO_TARGET_DIR="$target" RUSTC="$RUSTC" "$CARGO" build --quiet --offline \
      --release --target wasm32-unknown-unknown) || fail "rust examples"
  for crate in "${crates[@]}"; do
    cp "$target/wasm32-unknown-unknown/release/$crate.wasm" "$dir/$crate.wasm.$$.tmp"
    mv -f "$dir/$crate.wasm.$$.tmp" "$dir/$crate.wasm"
    done_built "$dir/$crate.wasm" "$key-$crate"
  done
}

build_zig() {
  local src out key version tmp
  version="$(tc_version zig)"
  for src in "$AGENTS"/zig/*.zig; do
    out="${src%.zig}.wasm"
    stale "$out" "$src" "$SDK/zig" || continue
    key="$(cache_key "zig $version" "$src" "$SDK/zig")"
    from_cache "$out" "$key" && continue
    tmp="$out.$$.tmp"   # unique: two builds may run at once (say, two test sessions)
    (cd "$(dirname "$src")" && $ZIG build-exe -target wasm32-freestanding -fno-entry -rdynamic \
        -O ReleaseSmall -fstrip --dep caxton -Mroot="$(basename "$src")" \
        -Mcaxton="$SDK/zig/caxton.zig" -femit-bin="$tmp") || { rm -f "$tmp"; fail "$src"; }
    rm -f "$tmp.o"
    mv -f "$tmp" "$out"
    done_built "$out" "$key"
  done
}

build_go() {
  local dir="$AGENTS/go" pkg name out key version tmp
  version="$(tc_version go)"
  for pkg in "$dir"/*/main.go; do
    pkg="$(dirname "$pkg")"
    name="$(basename "$pkg")"
    out="$dir/$name.wasm"
    stale "$out" "$pkg" "$dir/go.mod" "$SDK/go" || continue
    key="$(cache_key "go $version" "$pkg" "$dir/go.mod" "$SDK/go")"
    from_cache "$out" "$key" && continue
    tmp="$out.$$.tmp"   # unique: two builds may run at once (say, two test sessions)
    (cd "$dir" && GOTOOLCHAIN=local GOPROXY=off GOWORK=off GOOS=wasip1 GOARCH=wasm \
        "$GO" build -buildmode=c-shared -trimpath -ldflags=-s -o "$tmp" "./$name") \
      || { rm -f "$tmp"; fail "$pkg"; }
    mv -f "$tmp" "$out"
    done_built "$out" "$key"
  done
}

build_assemblyscript() {
  local src out key version tmp
  version="$(tc_version asc)"
  for src in "$AGENTS"/assemblyscript/*.ts; do
    out="${src%.ts}.wasm"
    stale "$out" "$src" "$SDK/assemblyscript" || continue
    key="$(cache_key "asc $version" "$src" "$SDK/assemblyscript")"
    from_cache "$out" "$key" && continue
    tmp="$out.$$.tmp"   # unique: two builds may run at once (say, two test sessions)
    # --use abort=...: aborts go to the agent's log (the host has no env.abort import)
    (cd "$(dirname "$src")" && "$ASC" "$(basename "$src")" -O3 --runtime incremental \
        --use abort=../../../sdk/assemblyscript/caxton/caxtonAbort -o "$tmp") \
      || { rm -f "$tmp"; fail "$src"; }
    mv -f "$tmp" "$out"
    done_built "$out" "$key"
  done
}

now() { date +%s.%N; }
started="$(now)"
# Each language builds in a subshell of its own, side by side (and beside the component agents,
# the slowest part): a language that fails is reported and the others still build.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build_lang() {
  local lang="$1" t0
  t0="$(now)"
  case "$lang" in
    wat) build_wat ;;
    c) need zig c && build_c c "${C_FLAGS[@]}" ;;
    c-wasi) need zig c-wasi && build_c c-wasi "${C_WASI_FLAGS[@]}" ;;
    rust) need rust rust && build_rust ;;
    zig) need zig zig && build_zig ;;
    go) need go go && build_go ;;
    assemblyscript) need asc assemblyscript && build_assemblyscript ;;
  esac
  echo "$built $cached $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}") ${skipped[*]}" >"$work/$lang.done"
}
pids=() names=()
for lang in "${langs[@]}"; do
  build_lang "$lang" >"$work/$lang.log" 2>&1 &
  pids+=($!) names+=("$lang")
done
# Component agents (python/, javascript/) have their own script, tools and cache.
if (( ! explicit )); then
  PYTHON="$PY" bash "$ROOT/scripts/build-components.sh" >"$work/components.log" 2>&1 &
  pids+=($!) names+=(components)
fi
failed=() times=()
for i in "${!pids[@]}"; do
  lang="${names[$i]}"
  wait "${pids[$i]}" || failed+=("$lang")
  cat "$work/$lang.log"
  if [[ -f "$work/$lang.done" ]]; then
    read -r b c secs skip <"$work/$lang.done"
    built=$((built + b)) cached=$((cached + c))
    [[ -n "${skip:-}" ]] && skipped+=("$skip")
    (( b + c > 0 )) && times+=("$lang ${secs}s")
  fi
done

note=""
(( ${#times[@]} )) && note=": $(printf '%s, ' "${times[@]}" | sed 's/, $//')"
(( ${#skipped[@]} )) && note="$note; skipped: ${skipped[*]}"
echo "build-examples: $built module(s) built, $cached from cache, others up to date" \
  "in $(awk "BEGIN{printf \"%.1f\", $(now) - $started}")s$note"
if (( ${#failed[@]} )); then
  echo "build-examples: FAILED: ${failed[*]} (see above); the other languages built" >&2
  exit 1
fi
