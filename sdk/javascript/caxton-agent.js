// Write Caxton agents in JavaScript: a `handle(msg)` function, built into a component.
//
// The agent runs inside the `caxton:agent` world (wit/caxton-agent.wit) with componentize-js;
// this module hides the WIT bindings. An agent module exports what `agent()` returns:
//
//   import { agent, reply } from '../../../../sdk/javascript/caxton-agent.js';
//
//   const echo = agent({
//     handle(msg) {
//       reply({ performative: 'inform', content: msg.content });
//     },
//   });
//   export const handle = echo.handle;
//   export const init = echo.init;
//   export const handleBatch = echo.handleBatch;  // optional: see below
//
// and is built with (scripts/build-components.sh does this for the examples)
//
//   componentize-js agent.js --wit wit/caxton-agent.wit -n batch-agent -d http fetch-event \
//     -o agent.wasm
//
// The `batch-agent` world adds `handleBatch`, which takes several queued messages in one call
// and handles each exactly as `handle` would (the host then calls the agent less often). An
// agent that does not export it is built with `-n agent` instead; scripts/build-components.sh
// and the project template's build.sh add the export themselves (`batch(handle)` around the
// module's `handle`), so agent code needs neither.
//
// `handle` succeeds when it returns. When it throws, the message fails: what the handler sent
// and wrote to state is discarded, the sender receives a FIPA `failure` naming the error, and
// the stack goes to the agent's log (as does console.log). Top-level code runs once, at build
// time (the engine is snapshotted after it), so keep host calls out of it. Module variables last
// until the host replaces the instance (after a trap, say): durable data belongs in `state`.

import * as host from 'caxton:agent/host@1.1.0';

let aborting = null;

/** The host refused a call: `kind` is "invalid", "too-large" or "no-message". */
export class HostError extends Error {
  constructor(kind, reason = '') {
    super(reason ? `${kind}: ${reason}` : kind);
    this.name = 'HostError';
    this.kind = kind;
    this.reason = reason;
  }
}

// Host functions that return a WIT `result` throw an error whose payload is the `error`
// variant ({tag, val}); make it a HostError.
function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    if (e && e.payload && typeof e.payload.tag === 'string') {
      throw new HostError(e.payload.tag, e.payload.val ?? '');
    }
    throw e;
  }
}

function json(message) {
  return typeof message === 'string' ? message : JSON.stringify(message);
}

/** Send a message (needs `receiver` and `performative`); the host sets `sender`. */
export function send(message) {
  call(host.send, json(message));
}

/** Reply to the current message; receiver and conversation fields are filled in. */
export function reply(message) {
  call(host.reply, json(message));
}

/** Write a line to the agent's log; level is "debug", "info", "warning" or "error". */
export function log(text, level = 'info') {
  host.log(level, String(text));
}

/** Wall-clock time in nanoseconds since the Unix epoch, as a BigInt. */
export function nowNs() {
  return host.now();
}

/** `n` cryptographically secure random bytes (at most 65,536), as a Uint8Array. */
export function randomBytes(n) {
  return call(host.random, n);
}

/** This agent's persistent state: text by key, plus bytes and JSON helpers. Writes are
 * visible at once and committed only when `handle` succeeds. Text crosses the component
 * boundary far more cheaply than bytes (a 1 MiB value: about 0.3 ms against 140 ms), so
 * prefer text or JSON for large values. */
export const state = {
  /** The text stored under `key`, or undefined. */
  get(key) {
    return call(host.stateGet, key);
  },
  put(key, text) {
    call(host.statePut, key, String(text));
  },
  /** The bytes stored under `key` (a Uint8Array), or undefined. */
  getBytes(key) {
    return call(host.stateGetBytes, key);
  },
  putBytes(key, bytes) {
    call(host.statePutBytes, key, bytes);
  },
  /** Delete `key`; true when it existed. */
  delete(key) {
    return call(host.stateDelete, key);
  },
  /** The keys that start with `prefix`, sorted (at most 10,000). */
  keys(prefix = '') {
    return call(host.stateList, prefix);
  },
  getJSON(key, fallback = undefined) {
    const text = call(host.stateGet, key);
    return text === undefined ? fallback : JSON.parse(text);
  },
  putJSON(key, value) {
    call(host.statePut, key, JSON.stringify(value));
  },
};

/** Stop with a WebAssembly trap, like a panic elsewhere: the message fails and the host
 * replaces the instance (module variables start over). */
export function abort(reason = 'abort') {
  aborting = String(reason);
  throw new Error(aborting);
}

function run(fn, ...args) {
  try {
    fn(...args);
  } catch (e) {
    if (aborting !== null) {
      log(`abort: ${aborting}`, 'error');
      throw { abort: aborting }; // not a string: componentize-js traps, which is the point
    }
    console.error(e && e.stack ? `${e}\n${e.stack}` : String(e));
    throw String(e); // the `err` of handle's result<_, string>
  }
}

/** The world's exports, `{handle, init, handleBatch}`, around your `handle(msg)` and
 * optional `init()`. */
export function agent({ handle, init = () => {} }) {
  const exports = {
    handle(message) {
      run(handle, JSON.parse(message));
    },
    init() {
      run(init);
    },
  };
  exports.handleBatch = batch(exports.handle);
  return exports;
}

/** The `batch-agent` world's `handleBatch` export around a world `handle` export (one that
 * takes the message's JSON text and throws a string to fail it, as `agent().handle` does).
 * Before each message it tells the host which one is current, and it stops at the first
 * failure: the host delivers the rest again. */
export function batch(handle) {
  return function handleBatch(messages) {
    for (let index = 0; index < messages.length; index++) {
      host.beginMessage(index);
      try {
        handle(messages[index]);
      } catch (e) {
        // A string is handle's `err`: the batch's failure. Anything else (an abort) must
        // still trap, so it leaves as an Error, which componentize-js does not turn into an
        // `err` value.
        if (typeof e === 'string') throw { index, reason: e };
        throw e instanceof Error ? e : new Error(String(e && e.abort !== undefined ? e.abort : e));
      }
    }
  };
}
