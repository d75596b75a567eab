"""Write Caxton agents in Python: a class with ``handle(self, msg)``, built into a component.

The agent runs inside the ``caxton:agent`` world (wit/caxton-agent.wit) with componentize-py;
this module hides the WIT bindings. Write the agent in ``app.py`` and end it with
``WitWorld = serve(MyAgent)``::

    from caxton_agent import Agent, serve

    class Echo(Agent):
        def handle(self, msg: dict) -> None:
            self.reply({"performative": "inform", "content": msg.get("content")})

    WitWorld = serve(Echo)

and build it (scripts/build-components.sh does this for the examples)::

    componentize-py -d wit/caxton-agent.wit -w batch-agent componentize app \\
        -p path/to/agent -p sdk/python -o agent.wasm

(``-w agent`` builds it without the batch entry point: the host then calls ``handle`` for
each message, which is slower when messages queue up.)

``handle`` succeeds when it returns. When it raises, the message fails: what the handler sent
and wrote to state is discarded, the sender receives a FIPA ``failure`` naming the exception,
and the traceback goes to the agent's log. ``print`` also goes to the log. Module-level code
runs once, at build time (componentize-py snapshots the initialised interpreter), so keep host
calls out of it; anything kept on ``self`` lasts until the host replaces the instance (after a
trap, say), so durable data belongs in ``self.state``.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from typing import Any

import wit_world
from componentize_py_types import Err
from wit_world.imports import host

__all__ = ["Agent", "HostError", "State", "serve"]

_LEVELS = {
    "debug": host.Level.DEBUG, "info": host.Level.INFO,
    "warning": host.Level.WARNING, "error": host.Level.ERROR,
}


class HostError(Exception):
    """The host refused a call: ``kind`` is "invalid", "too-large" or "no-message"."""

    def __init__(self, kind: str, reason: str = "") -> None:
        super().__init__(f"{kind}: {reason}" if reason else kind)
        self.kind = kind
        self.reason = reason


def _call(func: Any, *args: Any) -> Any:
    """Call a host function, turning its WIT error into a HostError."""
    try:
        return func(*args)
    except Err as exc:
        error = exc.value
        if isinstance(error, host.Error_Invalid):
            raise HostError("invalid", error.value) from None
        if isinstance(error, host.Error_TooLarge):
            raise HostError("too-large") from None
        raise HostError("no-message") from None


class State(MutableMapping[str, str]):
    """This agent's persistent key-value state: text by key, plus bytes and JSON helpers.

    Writes are visible at once and committed only when ``handle`` succeeds. Text crosses the
    component boundary far more cheaply than bytes (a 1 MiB value: about 0.3 ms against
    140 ms), so prefer text or JSON for large values. Iterating lists the keys (at most
    10,000; ``list_keys(prefix)`` narrows them down).
    """

    def __getitem__(self, key: str) -> str:
        value = _call(host.state_get, key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __setitem__(self, key: str, value: str) -> None:
        _call(host.state_put, key, value)

    def __delitem__(self, key: str) -> None:
        if not _call(host.state_delete, key):
            raise KeyError(key)

    def discard(self, key: str) -> bool:
        """Delete ``key`` if present; True when it was."""
        return bool(_call(host.state_delete, key))

    def get_bytes(self, key: str) -> bytes | None:
        value = _call(host.state_get_bytes, key)
        return None if value is None else bytes(value)

    def put_bytes(self, key: str, value: bytes) -> None:
        _call(host.state_put_bytes, key, bytes(value))

    def get_json(self, key: str, default: Any = None) -> Any:
        value = _call(host.state_get, key)
        return default if value is None else json.loads(value)

    def put_json(self, key: str, value: Any) -> None:
        _call(host.state_put, key, json.dumps(value, separators=(",", ":")))

    def list_keys(self, prefix: str = "") -> list[str]:
        """The keys that start with ``prefix``, sorted (at most 10,000)."""
        return [str(key) for key in _call(host.state_list, prefix)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.list_keys())

    def __len__(self) -> int:
        return len(self.list_keys())


class Agent:
    """Subclass it and implement ``handle``; ``init`` runs once when the agent is deployed."""

    state = State()

    def init(self) -> None:
        """Called once after deployment; raising refuses the deployment."""

    def handle(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError("an agent must implement handle(self, msg)")

    # -- host functions ------------------------------------------------------------------------
    @staticmethod
    def send(message: dict[str, Any]) -> None:
        """Send a message (needs ``receiver`` and ``performative``); the host sets ``sender``."""
        _call(host.send, _dumps(message))

    @staticmethod
    def reply(message: dict[str, Any]) -> None:
        """Reply to the current message; receiver and conversation fields are filled in."""
        _call(host.reply, _dumps(message))

    @staticmethod
    def log(text: str, level: str = "info") -> None:
        host.log(_LEVELS.get(level, host.Level.INFO), text)

    @staticmethod
    def now_ns() -> int:
        """Wall-clock time in nanoseconds since the Unix epoch."""
        return int(host.now())

    @staticmethod
    def random_bytes(n: int) -> bytes:
        """``n`` cryptographically secure random bytes (at most 65,536)."""
        return bytes(_call(host.random, n))


def _dumps(message: dict[str, Any] | str | bytes) -> str:
    if isinstance(message, bytes):
        return message.decode()
    if isinstance(message, str):  # already JSON (or deliberately not: the host will say)
        return message
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def serve(agent_class: type[Agent]) -> type:
    """The ``WitWorld`` class componentize-py exports, delegating to one ``agent_class``.

    It implements the ``batch-agent`` world: besides ``handle`` it takes several queued
    messages in one call (``handle_batch``), each handled exactly as ``handle`` would, so
    nothing in the agent changes. Built against ``agent`` instead, the extra method is unused.
    """
    agent = agent_class()

    class WitWorld(wit_world.WitWorld):
        def init(self) -> None:
            _run(agent.init)

        def handle(self, message: str) -> None:
            _run(agent.handle, json.loads(message))

        def handle_batch(self, messages: list[str]) -> None:
            # The host attributes what happens to the message named by begin_message, and
            # stops at the first failure (the rest are delivered again later).
            begin = host.begin_message
            handle = agent.handle
            for index, message in enumerate(messages):
                begin(index)
                msg = json.loads(message)
                try:
                    handle(msg)
                except Exception as exc:
                    raise Err(host.BatchFailure(index, _reason(exc))) from None

    return WitWorld


def _run(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except Exception as exc:
        raise Err(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    """Log the traceback (the agent's log, line by line) and name the failure."""
    traceback.print_exception(exc, file=sys.stderr)
    return f"{type(exc).__name__}: {exc}"
