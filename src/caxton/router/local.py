"""Message routing: local agent → another node or platform → an answer saying why not.

Every routed message is logged to the store first (batched by the group-commit writer), then
delivered. A receiver that cannot take it produces a FIPA ``failure`` back to the sender,
except for acts that already report trouble: answering those is how loops start.

Four seams let other parts take part without the router knowing them:
- ``Guard``: sees each message first and may stop it (the cascade guard against loops and
  fork bombs), and hears which messages agents take, settle and bounce;
- ``Resolver``: turns a receiver that names no local agent (a capability such as
  ``service:translate``, a FIPA name ``seller@platform``) into agent names, before logging;
- ``Observer``: sees each message before it is logged (the conversation manager), may add
  statements to the same transaction, hold the message back and answer it;
- ``Transport``: carries a message to an agent on another platform (the FIPA HTTP MTP).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, reply
from caxton.domain.ids import PLATFORM_AGENT, is_client_inbox
from caxton.store.writer import OnCommit, Statement

log = structlog.get_logger("caxton.router")


class Destination(Protocol):
    """Something local that takes messages: an agent, or an API client's inbox.

    A ``durable`` destination is owed each message until it reports it handled: the router
    records a pending delivery for it in the same write as the message.
    """

    durable: bool

    def refusal(self) -> str | None:
        """Why a message cannot be taken now, or None."""
        ...

    def deliver(self, msg: AclMessage) -> str | None:
        """Take ``msg``, or return why not."""
        ...


class RemoteRoute(Protocol):
    """The seam for the cluster: agents that live on other nodes."""

    def owns(self, name: str) -> bool: ...

    def forward(self, msg: AclMessage, receiver: str) -> None: ...


class Resolver(Protocol):
    def claims(self, receiver: str) -> bool:
        """Whether ``receiver`` is this resolver's kind of address (without resolving it:
        resolving may take a round-robin turn)."""
        ...

    def resolve(self, receiver: str) -> tuple[str, ...] | None:
        """The agents ``receiver`` stands for (possibly none), or None if it is not this
        resolver's kind of address."""
        ...

    def unresolved(self, receiver: str) -> str | None:
        """Why nobody answers to ``receiver`` (the bounce's reason), if it is ours."""
        ...


class Transport(Protocol):
    # A durable transport is owed each message like a durable Destination: the router records
    # a pending delivery, which the transport settles once the message is sent or given up.
    durable: bool

    def carries(self, msg: AclMessage, receiver: str) -> bool:
        """Whether ``msg`` says where ``receiver`` lives in a way this transport reaches."""
        ...

    def forward(self, msg: AclMessage, receiver: str) -> None:
        """Send ``msg`` on (without blocking the routing thread)."""
        ...


@dataclass(slots=True)
class Verdict:
    """What an ``Observer`` makes of a message: rows to write with it, whether it is held
    back from its receivers (still logged), and messages to route in answer."""

    statements: list[Statement] = field(default_factory=list)
    hold: bool = False
    answers: list[AclMessage] = field(default_factory=list)


PASS = Verdict()


class Observer(Protocol):
    def observe(self, msg: AclMessage) -> Verdict:
        """Called on the routing thread for every message; return ``PASS`` when there is
        nothing to say (it must not be mutated)."""
        ...


class Guard(Protocol):
    """Keeps message cascades within bounds (``runtime.cascades``). Called on routing and
    worker threads alike; every call must be cheap (no IO)."""

    def admit(self, msg: AclMessage, ahead: int = 0) -> Verdict | None:
        """None to route ``msg``. Otherwise it is not delivered: the verdict's statements are
        written, its answers routed without asking the guard again, and ``msg`` itself is
        recorded when the verdict holds it (else it is dropped unrecorded). ``ahead``: how
        many messages of the same cascade this batch admitted before it (not yet taken)."""
        ...

    def took(self, msg: AclMessage) -> None:
        """A durable destination (an agent) is about to queue ``msg``."""
        ...

    def settled(self, msg: AclMessage) -> None:
        """An agent is done with ``msg``: handled, dead-lettered, or refused after all."""
        ...

    def settled_all(self, messages: Sequence[AclMessage]) -> None:
        """``settled`` for each of ``messages`` (an agent's turn), at once."""
        ...

    def bounced(self, msg: AclMessage) -> None:
        """``msg`` did not reach one of its receivers."""
        ...


class MessageLog(Protocol):
    def message_statements(self, msg: AclMessage, durable_receivers: tuple[str, ...]
                           ) -> list[Statement]: ...

    def submit(self, statements: list[Statement], on_commit: OnCommit | None = None) -> None: ...


class ClientInbox:
    """Where replies to an API client land; ``callback`` runs on the routing thread."""

    durable = False

    def __init__(self, callback: Callable[[AclMessage], None]) -> None:
        self._callback = callback

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        self._callback(msg)
        return None


class Router:
    def __init__(self, log_store: MessageLog, remote: RemoteRoute | None = None) -> None:
        self._log = log_store
        self._remote = remote
        self._local: dict[str, Destination] = {}
        self._taps: tuple[Callable[[AclMessage], None], ...] = ()
        self._resolvers: tuple[Resolver, ...] = ()
        self._transports: tuple[Transport, ...] = ()
        self.guard: Guard | None = None
        self.observer: Observer | None = None
        self.routed = 0
        # Called with the messages of each routed batch (the metrics count them per batch)
        self.on_routed: Callable[[list[AclMessage]], None] | None = None
        self.bounced = 0
        self.held = 0

    def register(self, name: str, destination: Destination) -> None:
        self._local[name] = destination

    def unregister(self, name: str) -> None:
        self._local.pop(name, None)

    def add_tap(self, tap: Callable[[AclMessage], None]) -> Callable[[], None]:
        """Call ``tap`` with every routed message; returns a function that removes it.

        Taps run on the routing thread, so they must only hand the message off (e.g. into a
        bounded queue that drops when full): a slow watcher must never slow routing.
        """
        self._taps = (*self._taps, tap)

        def remove() -> None:
            self._taps = tuple(t for t in self._taps if t is not tap)

        return remove

    def add_resolver(self, resolver: Resolver) -> None:
        self._resolvers = (*self._resolvers, resolver)

    def add_transport(self, transport: Transport) -> None:
        self._transports = (*self._transports, transport)

    def lookup(self, name: str) -> Destination | None:
        return self._local.get(name)

    def knows(self, name: str, msg: AclMessage | None = None) -> bool:
        """Whether a message to ``name`` has somewhere to go (``msg`` for its addresses)."""
        if name in self._local or name == PLATFORM_AGENT:
            return True
        if self._remote is not None and self._remote.owns(name):
            return True
        if msg is not None and any(t.carries(msg, name) for t in self._transports):
            return True
        return any(r.claims(name) for r in self._resolvers)

    def _owed_abroad(self, msg: AclMessage, name: str) -> bool:
        return any(t.durable and t.carries(msg, name) for t in self._transports)

    def resolve(self, msg: AclMessage) -> None:
        """Replace receivers that are capabilities or foreign names by the agents they name."""
        local, resolvers = self._local, self._resolvers
        if not resolvers or all(name in local for name in msg.receiver):
            return
        out: list[str] = []
        changed = False
        for name in msg.receiver:
            found = None if name in local else _first(resolvers, name)
            if not found:  # not a resolver's, or nobody answers to it: the bounce names it
                out.append(name)
            else:
                out.extend(found)
                changed = True
        if changed:
            msg.receiver = tuple(dict.fromkeys(out))
            msg._wire = None  # the cached wire form named the old receivers

    def route(self, msg: AclMessage, on_commit: OnCommit | None = None) -> None:
        self.route_batch((msg,), on_commit=on_commit)

    def route_batch(
        self,
        messages: Sequence[AclMessage],
        *,
        extra: Sequence[Statement] = (),
        on_commit: OnCommit | None = None,
        admitted: bool = False,
    ) -> None:
        """Log ``messages`` (with ``extra`` statements, in one transaction), then deliver them.

        Delivery does not wait for the commit: the writer commits in submission order, so
        anything a receiver does with a message is committed after the message itself.
        ``admitted``: the guard already had its say (its own answers about a cut).
        """
        statements = list(extra)
        plans: list[tuple[AclMessage, list[tuple[str, Destination | None, str | None]]]] = []
        answers: list[AclMessage] = []
        notices: list[AclMessage] = []
        local, observer = self._local, self.observer
        guard = None if admitted else self.guard
        ahead: dict[str, int] = {}  # admitted in this batch, by cascade: not taken yet
        for msg in messages:
            if guard is not None:
                root = msg.cascade_root
                if (stop := guard.admit(msg, ahead.get(root, 0))) is not None:
                    statements.extend(stop.statements)
                    notices.extend(stop.answers)
                    if stop.hold:
                        statements.extend(self._log.message_statements(msg, ()))
                    continue
                ahead[root] = ahead.get(root, 0) + 1
            if self._resolvers:
                self.resolve(msg)
            if observer is not None:
                verdict = observer.observe(msg)
                if verdict is not PASS:
                    statements.extend(verdict.statements)
                    answers.extend(verdict.answers)
                    if verdict.hold:  # recorded, never delivered
                        statements.extend(self._log.message_statements(msg, ()))
                        self.held += 1
                        continue
            targets = []
            for name in msg.receiver:
                dest = local.get(name)
                targets.append((name, dest, dest.refusal() if dest is not None else None))
            durable = tuple(name for name, dest, problem in targets
                            if (dest.durable and problem is None if dest is not None
                                else self._owed_abroad(msg, name)))
            statements.extend(self._log.message_statements(msg, durable))
            plans.append((msg, targets))
        self._log.submit(statements, on_commit)
        self.routed += len(plans)
        if self.on_routed is not None and plans:
            self.on_routed([msg for msg, _ in plans])
        taps = self._taps
        for msg, targets in plans:
            for tap in taps:
                try:
                    tap(msg)
                except Exception:
                    log.exception("message tap failed")
            for name, dest, problem in targets:
                self._deliver(msg, name, dest, problem)
        if answers:
            self.route_batch(answers)
        if notices:
            self.route_batch(notices, admitted=True)

    def took(self, msg: AclMessage) -> None:
        """An agent was handed ``msg`` outside routing (owed from before a restart, a replayed
        dead letter): for the guard's count of what is in flight."""
        if self.guard is not None:
            self.guard.took(msg)

    def settled(self, msg: AclMessage) -> None:
        """An agent is done with ``msg`` (for the guard's count of what is in flight)."""
        if self.guard is not None:
            self.guard.settled(msg)

    def settled_all(self, messages: Sequence[AclMessage]) -> None:
        """``settled`` for each of ``messages`` at once (an agent's turn)."""
        if self.guard is not None:
            self.guard.settled_all(messages)

    def _deliver(self, msg: AclMessage, name: str, dest: Destination | None,
                 problem: str | None) -> None:
        if dest is not None:
            if problem is None:
                guard = self.guard if dest.durable else None
                if guard is not None:  # before deliver: a worker may settle it at once
                    guard.took(msg)
                problem = dest.deliver(msg)
                if problem is not None and dest.durable:  # refused after all: not owed
                    if guard is not None:
                        guard.settled(msg)
                    self._log.submit([("DELETE FROM deliveries WHERE message_id = ? AND"
                                       " receiver = ?", (msg.message_id, name))])
            if problem is not None:
                self.bounce(msg, name, problem)
        elif self._remote is not None and self._remote.owns(name):
            self._remote.forward(msg, name)
        elif (transport := next((t for t in self._transports if t.carries(msg, name)),
                                None)) is not None:
            transport.forward(msg, name)
        elif is_client_inbox(name):
            pass  # the client stopped waiting; the reply stays in the conversation log
        elif name == PLATFORM_AGENT:
            pass  # the AMS takes platform reports; it has nothing to answer yet
        else:
            self.bounce(msg, name, _unresolved(self._resolvers, name))

    def bounce(self, msg: AclMessage, receiver: str, reason: str) -> None:
        """Tell the sender that ``receiver`` did not get ``msg``."""
        self.bounced += 1
        if self.guard is not None:
            self.guard.bounced(msg)
        if msg.performative in ERROR_ACTS:
            log.info("dropped undeliverable error report", receiver=receiver, reason=reason)
            return
        self.route(reply(
            msg, sender=PLATFORM_AGENT, performative=Performative.FAILURE,
            content={"error": "undeliverable", "receiver": receiver, "reason": reason},
        ))


def _unresolved(resolvers: tuple[Resolver, ...], name: str) -> str:
    for resolver in resolvers:
        reason = resolver.unresolved(name)
        if reason:
            return reason
    return f"no agent named '{name}'"


def _first(resolvers: tuple[Resolver, ...], name: str) -> tuple[str, ...] | None:
    for resolver in resolvers:
        found = resolver.resolve(name)
        if found is not None:
            return found
    return None
