#!/usr/bin/env bash
# Build the component agents in examples/agents/: WebAssembly components of the caxton:agent
# world (wit/caxton-agent.wit), next to their sources:
#
#   python      python/<agent>/app.py            -> python/<agent>.wasm      (componentize-py
#                                                                             + sdk/python)
#   javascript  javascript/<agent>/<agent>.js    -> javascript/<agent>.wasm  (componentize-js
#                                                                             + sdk/javascript)
#
# Both are built against the world `batch-agent` (handle, init and the batch entry point
# handle-batch). The Python SDK's serve() implements handle-batch; for JavaScript the script
# builds a small entry module next to the agent that re-exports it and adds
# `handleBatch = batch(handle)` from the SDK, so agent sources only export handle and init.
#
# Usage: scripts/build-components.sh [--tests] [python|javascript ...]
#   With no language both are built, and one whose tool is missing is skipped with a warning
#   (scripts/install-component-tools.sh installs them). A language named explicitly must build.
#   The two languages build side by side (each build is mostly one core). --tests builds the
#   test fixtures in tests/fixtures/components/ (same layout) instead of the examples.
#
# Caching: a component newer than its sources (its SDK, the WIT and this script) is left alone.
# Before building, the script also looks in the content-addressed cache that build-examples.sh
# uses, ${CAXTON_BUILD_CACHE:-~/.cache/caxton/wasm}, keyed by the sources and the tool's version
# (CAXTON_BUILD_CACHE=off disables it). Python is ${PYTHON:-python3}, which must have
# componentize-py; componentize-js comes from .cache/npm-components/.
set -euo pipefail

PY="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/scripts/build-components.sh"
AGENTS="$ROOT/examples/agents"
WIT="$ROOT/wit/caxton-agent.wit"
CJS="$ROOT/.cache/npm-components/node_modules/.bin/componentize-js"
CACHE="${CAXTON_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caxton/wasm}"

explicit=0
langs=()
for arg in "$@"; do
  case "$arg" in
    python|javascript) langs+=("$arg") ;;
    py) langs+=(python) ;;
    js) langs+=(javascript) ;;
    --tests) AGENTS="$ROOT/tests/fixtures/components" ;;
    -h|--help) sed -n '2,27p' "$SELF"; exit 0 ;;
    *) echo "build-components: unknown language '$arg' (python or javascript)" >&2; exit 2 ;;
  esac
done
if (( ${#langs[@]} )); then explicit=1; else langs=(python javascript); fi
shopt -s nullglob

# stale OUT DEP...: OUT is missing, or a file under the DEPs (or this script) is newer.
stale() {
  local out="$1"
  shift
  [[ -f "$out" ]] || return 0
  [[ -n "$(find "$@" "$SELF" -type f ! -name '*.wasm' ! -name '*.pyc' ! -name '.caxton-entry-*' \
            -newer "$out" -print -quit 2>/dev/null)" ]]
}

# cache_key TAG DEP...: a hash of TAG (the tool and its version) and the DEPs' paths and bytes.
cache_key() {
  local tag="$1"
  shift
  {
    printf '%s\n' "$tag"
    find "$@" -type f ! -name '*.wasm' ! -name '*.pyc' ! -name '.caxton-entry-*' -print0 |
      LC_ALL=C sort -z |
      while IFS= read -r -d '' f; do printf '%s\n' "${f#"$ROOT"/}"; cat "$f"; done
  } | sha256sum | cut -c1-32
}

# place OUT KEY: copy a cached component into place (true when there was one).
place() {
  [[ "$CACHE" != off && -f "$CACHE/$2.wasm" ]] || return 1
  cp "$CACHE/$2.wasm" "$1.$$.tmp" && mv -f "$1.$$.tmp" "$1"
  echo "cached ${1#"$ROOT"/} ($(wc -c <"$1") bytes)"
}

# keep OUT KEY: report a fresh component and remember it in the cache.
keep() {
  echo "built ${1#"$ROOT"/} ($(wc -c <"$1") bytes, $2s)"
  [[ "$CACHE" != off ]] || return 0
  mkdir -p "$CACHE" && cp "$1" "$CACHE/$3.wasm.$$" && mv -f "$CACHE/$3.wasm.$$" "$CACHE/$3.wasm" \
    || true
}

# have LANG: its tool is installed; else skip it (or fail when it was named).
have() {
  local ok=1
  case "$1" in
    python) "$PY" -c 'import componentize_py' 2>/dev/null || ok=0 ;;
    javascript) [[ -x "$CJS" ]] && command -v node >/dev/null || ok=0 ;;
  esac
  (( ok )) && return 0
  local why="$1: its tool is not installed (run scripts/install-component-tools.sh)"
  if (( explicit )); then echo "build-components: FAILED $why" >&2; exit 1; fi
  echo "build-components: skipping $why" >&2
  return 1
}

build_python() {
  local dir name out key version t0 tmp
  version="$("$PY" -c 'import importlib.metadata as m; print(m.version("componentize-py"))')"
  for dir in "$AGENTS"/python/*/; do
    dir="${dir%/}" name="$(basename "$dir")" out="$AGENTS/python/$name.wasm"
    [[ -f "$dir/app.py" ]] || continue
    stale "$out" "$dir" "$ROOT/sdk/python" "$WIT" || continue
    key="$(cache_key "componentize-py $version batch-agent" "$dir" "$ROOT/sdk/python" "$WIT")"
    place "$out" "$key" && continue
    t0=$SECONDS tmp="$out.$$.tmp"  # per process: the test suite may build at the same time
    "$PY" -c 'import componentize_py; componentize_py.script()' -q -d "$WIT" -w batch-agent \
        componentize app -p "$dir" -p "$ROOT/sdk/python" -o "$tmp" \
      || { rm -f "$tmp"; echo "build-components: FAILED $dir" >&2; return 1; }
    mv -f "$tmp" "$out"
    keep "$out" $((SECONDS - t0)) "$key"
  done
}

# js_entry DIR NAME SDK: write DIR/.caxton-entry-PID.js, the module componentize-js builds:
# the agent's exports plus handleBatch around its handle (an export of the agent's own wins:
# explicit exports take precedence over `export *`). Prints the entry's path.
js_entry() {
  local entry="$1/.caxton-entry-$$.js"
  cat >"$entry" <<EOF
// Generated by build-components.sh: the agent's exports plus the batch entry point.
import { handle } from './$2.js';
import { batch } from '$3';
export * from './$2.js';
export const handleBatch = batch(handle);
EOF
  echo "$entry"
}

build_javascript() {
  local dir name src out key version t0 tmp entry sdk
  version="$(node -p 'require(process.argv[1]).version' \
      "$ROOT/.cache/npm-components/node_modules/@bytecodealliance/componentize-js/package.json")"
  for dir in "$AGENTS"/javascript/*/; do
    dir="${dir%/}" name="$(basename "$dir")" out="$AGENTS/javascript/$name.wasm"
    src="$dir/$name.js"
    [[ -f "$src" ]] || continue
    stale "$out" "$dir" "$ROOT/sdk/javascript" "$WIT" || continue
    key="$(cache_key "componentize-js $version batch-agent" "$dir" "$ROOT/sdk/javascript" \
        "$WIT")"
    place "$out" "$key" && continue
    t0=$SECONDS tmp="$out.$$.tmp"
    sdk="$(realpath --relative-to="$dir" "$ROOT/sdk/javascript/caxton-agent.js")"
    entry="$(js_entry "$dir" "$name" "$sdk")"
    # From the repository root: componentize-js maps the working directory into the build, so
    # the agent's relative import of sdk/javascript resolves. No wasi:http (agents have no
    # network), so the host can link everything the component imports.
    (cd "$ROOT" && "$CJS" "${entry#"$ROOT"/}" --wit "${WIT#"$ROOT"/}" -n batch-agent \
        -d http fetch-event -o "$tmp" >/dev/null) \
      || { rm -f "$tmp" "$entry"; echo "build-components: FAILED $src" >&2; return 1; }
    rm -f "$entry"
    mv -f "$tmp" "$out"
    keep "$out" $((SECONDS - t0)) "$key"
  done
}

started=$SECONDS
pids=() ran=()
for lang in "${langs[@]}"; do
  have "$lang" || continue
  "build_$lang" &
  pids+=($!) ran+=("$lang")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
(( failed )) && exit 1
echo "build-components: ${ran[*]:-nothing} done ($((SECONDS - started))s)"
