"""What the host functions act on during one call into an agent: the ``CallContext``.

It holds the message being handled, what the handler has sent and written so far, and the
budgets it has used; in a ``handle_batch`` call it also knows which message is current, and
sets aside what each finished message produced (docs/agent-abi.md). The ABI v1 functions
(``hostcalls``) and the component host (``component_host``) share it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from caxton.domain.acl import AclMessage, carry_addresses, parse_message
from caxton.domain.cascade import chain_hops
from caxton.domain.limits import ResourceLimits
from caxton.errors import InvalidMessageError
from caxton.sandbox._capi import HostTrap, MemoryView
from caxton.sandbox.outcome import BatchPart

MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = 1024 * 1024
MAX_RANDOM_BYTES = 65536
MAX_LISTED_KEYS = 10_000

OK, NOT_FOUND, INVALID, TOO_LARGE, LIMIT, NO_MESSAGE = 0, -1, -2, -3, -4, -5
_U32 = 0xFFFFFFFF


class HostServices(Protocol):
    """What host functions need from the rest of the server."""

    def state_read(self, agent: str, key: str) -> bytes | None: ...

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]: ...

    def state_room(self, agent: str) -> int:
        """Bytes of state (keys plus values) the agent may still add."""
        ...

    def agent_log(self, agent: str, level: int, text: str) -> None: ...

    def violation(self, agent: str, kind: str, detail: str) -> None:
        """The agent tried what its permissions deny (counted, and reported to the audit)."""
        ...


@dataclass(slots=True)
class CallContext:
    """Everything one agent's host functions touch; reset before each ``handle`` call."""

    agent: str
    limits: ResourceLimits
    services: HostServices
    # The ABI v1 host functions the agent may call; None: all (no permissions declared).
    permitted: frozenset[str] | None = None
    memory: MemoryView | None = None
    current: AclMessage | None = None
    outbox: list[AclMessage] = field(default_factory=list)
    state_writes: dict[str, bytes | None] = field(default_factory=dict)
    host_calls: int = 0
    state_growth: int = 0  # bytes this run's state writes add (negative when they free)
    # Why the last send/reply was refused: components get it back in the WIT error value.
    refusal: str = ""
    sends_refused: int = 0  # sends and replies past the budget in this run
    # A ``handle_batch`` call (docs/agent-abi.md): its messages, the address of the word in
    # which the agent says which one it is handling, and what each finished one produced.
    batch: list[AclMessage] | None = None
    batch_word: int = 0
    batch_index: int = 0
    batch_done: list[BatchPart] = field(
        default_factory=list)
    batch_writes: dict[str, bytes | None] = field(default_factory=dict)

    def begin(self, message: AclMessage | None) -> None:
        self.current = message
        self.outbox = []
        self.state_writes = {}
        self.state_growth = 0
        self.host_calls = 0
        self.sends_refused = 0
        self.batch = None

    def begin_batch(self, messages: list[AclMessage], word: int) -> None:
        """Start a batch; the agent writes the current message's index at ``word``."""
        self.begin(messages[0])
        self.batch, self.batch_word, self.batch_index = messages, word, 0
        self.batch_done, self.batch_writes = [], {}

    def sync(self, cctx: Any) -> None:
        """Before a host call during a batch: move on to the message the agent now handles.

        What the messages before it produced is set aside as theirs (a later failure does not
        touch it), and the next message starts with empty sends, writes and budgets.
        """
        assert self.memory is not None
        self.advance(int.from_bytes(self.memory.read(cctx, self.batch_word, 4), "little"))

    def advance(self, index: int) -> None:
        """The agent now handles the batch's message ``index`` (indexes only grow)."""
        assert self.batch is not None
        if index == self.batch_index:
            return
        if not self.batch_index < index < len(self.batch):
            count, self.batch = len(self.batch), None  # nothing more is attributed: it traps
            raise HostTrap(f"handle_batch: the current message index went from "
                           f"{self.batch_index} to {index} (of {count} messages)")
        while self.batch_index < index:
            self._next_message()

    def _next_message(self) -> None:
        assert self.batch is not None
        self.batch_done.append((self.outbox, self.state_writes, self.sends_refused))
        self.batch_writes.update(self.state_writes)
        self.batch_index += 1
        self.current = self.batch[self.batch_index]
        self.outbox, self.state_writes = [], {}
        self.host_calls = self.sends_refused = 0  # state_growth runs on: one room per batch

    def end_batch(self, cctx: Any, *, all_handled: bool
                  ) -> list[BatchPart]:
        """What each handled message produced: all of them when the call returned 0, else
        those before the one at the current index (which failed or was cut short). ``cctx``
        None: the index is already current (a component reports it with each step)."""
        if self.batch is not None and cctx is not None:
            # A bad final index: only what was attributed before it counts.
            with contextlib.suppress(HostTrap):
                self.sync(cctx)
        if all_handled and self.batch is not None:
            while self.batch_index < len(self.batch) - 1:
                self._next_message()
            self.batch_done.append((self.outbox, self.state_writes, self.sends_refused))
        done, self.batch, self.batch_done, self.batch_writes = (
            self.batch_done, None, [], {})
        return done

    def charge(self) -> None:
        self.host_calls += 1
        if self.host_calls > self.limits.max_host_calls:
            limit = self.limits.max_host_calls
            raise HostTrap(f"host call budget of {limit} per message exhausted")

    def read(self, cctx: Any, ptr: int, length: int) -> bytes:
        assert self.memory is not None
        return self.memory.read(cctx, ptr & _U32, length & _U32)

    def emit(self, data: bytes, *, as_reply: bool) -> int:
        if as_reply and self.current is None:
            return NO_MESSAGE
        if len(self.outbox) >= self.limits.max_sends_per_message:
            return self._over_budget()
        try:
            obj = orjson.loads(data)
            msg = parse_message(obj, sender=self.agent, base=self.current if as_reply else None)
        except orjson.JSONDecodeError as exc:
            return self._refuse(f"not valid JSON ({exc})")
        except InvalidMessageError as exc:
            return self._refuse(exc.message)
        if not as_reply and msg.conversation_id is None:
            msg.conversation_id = msg.message_id
        if self.current is not None:  # what the handled message causes is in its cascade
            msg.hops = chain_hops(self.current, msg)
            msg.cascade = self.current.cascade_root
            carry_addresses(msg, self.current)
        if msg.wire_size > self.limits.max_message_bytes:
            return TOO_LARGE
        self.outbox.append(msg)
        return OK

    def _over_budget(self) -> int:
        """Refuse a send past the budget: one handled message may not flood the platform. The
        handler goes on; whether what it sent before is released is its outcome's to decide."""
        budget = self.limits.max_sends_per_message
        self.refusal = (f"the budget of {budget} sends per handled message is spent"
                        f" (max_sends_per_message)")
        if not self.sends_refused:  # one log line per handler run, however many it tries
            self.services.agent_log(self.agent, 3, f"send refused: {self.refusal}; later sends"
                                                   f" while handling this message are refused"
                                                   f" too")
        self.sends_refused += 1
        return LIMIT

    def _refuse(self, reason: str) -> int:
        self.refusal = reason
        self.services.agent_log(self.agent, 3, f"send refused: {reason}")
        return INVALID

    def state_value(self, key: str) -> bytes | None:
        if key in self.state_writes:
            return self.state_writes[key]
        if key in self.batch_writes:  # an earlier message of this batch wrote it
            return self.batch_writes[key]
        return self.services.state_read(self.agent, key)

    # State writes, shared by ABI v1 (below) and the component host (component_host) so both
    # apply the same limits and bookkeeping.
    def put_state(self, key: str, value: bytes) -> int:
        """Record a write; OK, or TOO_LARGE when the agent's state limit would be passed."""
        old = self.state_value(key)
        size = len(key.encode())
        growth = size + len(value) - (size + len(old) if old is not None else 0)
        if growth > 0 and self.state_growth + growth > self.services.state_room(self.agent):
            self.services.agent_log(self.agent, 3, f"state_put refused: the agent's state limit "
                                                   f"is reached (key {key!r}, {len(value)} bytes)")
            return TOO_LARGE
        self.state_growth += growth
        self.state_writes[key] = value
        return OK

    def delete_state(self, key: str) -> bool:
        """Record a delete; True when the key existed."""
        old = self.state_value(key)
        if old is not None:
            self.state_growth -= len(key.encode()) + len(old)
        self.state_writes[key] = None
        return old is not None

    def list_state(self, prefix: str) -> list[str]:
        """This agent's keys with the prefix, this run's writes included (sorted, bounded)."""
        keys = set(self.services.state_keys(self.agent, prefix, MAX_LISTED_KEYS))
        for writes in (self.batch_writes, self.state_writes):
            for key, value in writes.items():
                if key.startswith(prefix):
                    (keys.add if value is not None else keys.discard)(key)
        return sorted(keys)[:MAX_LISTED_KEYS]
