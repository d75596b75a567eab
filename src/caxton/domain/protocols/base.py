"""What an interaction protocol is, as data: per-party transition tables (FIPA SC00026-36).

Every FIPA protocol is a conversation between one initiator and one or more participants, each
pair following the same small automaton: the initiator's ``cfp`` moves participant ``b`` from
``start`` to ``invited``, ``b``'s ``propose`` moves it on to ``proposed``, and so on. So a
``Protocol`` is a table keyed by ``(state, performative, role)``, where ``role`` says who sends,
applied separately to each party. Contract nets and auctions are then many copies of one
automaton, and the few rules that couple parties (one winner in a Dutch auction, the old leader
outbid in an English one) are small ``check`` and ``effect`` hooks.

Brokering and recruiting also involve *targets*, agents the broker talks to on the initiator's
behalf; they get their own table. ``state.ConversationState`` runs the tables; the protocols
themselves live in the sibling modules.

FIPA's generic rules are not in the tables but applied to every protocol: ``not-understood`` from
either side ends that party's part; the initiator may ``cancel`` while a participant still owes
it something, and the participant answers the cancel with ``inform`` (done) or ``failure``
(which leaves the conversation where it was).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from caxton.domain.acl import Performative
from caxton.errors import ProtocolViolation

if TYPE_CHECKING:
    from caxton.domain.acl import AclMessage
    from caxton.domain.protocols.state import ConversationState


class Role(StrEnum):
    """Who sends a message, relative to the conversation."""

    INITIATOR = "initiator"
    PARTICIPANT = "participant"
    TARGET = "target"  # an agent a broker or recruiter contacts on the initiator's behalf


INIT, PART, TGT = Role.INITIATOR, Role.PARTICIPANT, Role.TARGET  # short names for tables


class Kind(StrEnum):
    """Which table a party follows."""

    PARTICIPANT = "participant"
    TARGET = "target"


START = "start"
NOT_UNDERSTOOD = "not-understood"
CANCELLED = "cancelled"
TIMED_OUT = "timed-out"
LATE = "late"
# Reached by the generic rules; every protocol accepts them as an end. (Whether a timed-out party
# has ended its part is the protocol's call: an auction bidder who skipped a round has not.)
GENERIC_FINAL = frozenset({NOT_UNDERSTOOD, CANCELLED})

Key = tuple[str, Performative | None, Role]  # performative None: any act
Table = Mapping[Key, str]


@dataclass(frozen=True, slots=True)
class Party:
    """One party's progress: its state, the last act exchanged with it, who sent that, the
    reply-by deadline it was given, and the reply key of a cancel it has yet to answer."""

    kind: Kind = Kind.PARTICIPANT
    state: str = START
    last: Performative | None = None
    last_by: Role | None = None
    deadline: str | None = None
    cancel: str | None = None


# Rules couple parties. A check sees the conversation before the message and the message with
# its sender's role, and raises ProtocolViolation to refuse it (before any table is consulted, so
# its reason wins); an effect then sees the parties after the tables ran, as a dict to change.
Check = Callable[["ConversationState", "AclMessage", Role], None]
Effect = Callable[["ConversationState", dict[str, Party], "AclMessage", Role], None]


@dataclass(frozen=True, eq=False)
class Protocol:
    """An interaction protocol: its name, role names, tables and deadline behaviour.

    ``final`` lists the states in which a party's part may end (the conversation is done when
    every party is in one); ``awaiting`` the states in which the participant owes an answer that
    ``reply_by`` governs; ``deadline_bound`` the answers that count as late after it (a late
    proposal moves the party to ``late`` instead of being accepted).
    """

    name: str
    transitions: Table
    final: frozenset[str]
    roles: Mapping[Role, str] = field(default_factory=lambda: {
        Role.INITIATOR: "initiator", Role.PARTICIPANT: "participant", Role.TARGET: "target"})
    awaiting: frozenset[str] = frozenset()
    deadline_bound: frozenset[Performative] = frozenset()
    targets: Table | None = None
    forward_from: frozenset[str] = frozenset()
    check: Check | None = None
    effect: Effect | None = None

    def table(self, kind: Kind) -> Table:
        if kind is Kind.TARGET:
            return self.targets or {}
        return self.transitions

    def is_final(self, state: str) -> bool:
        return state in self.final or state in GENERIC_FINAL

    @property
    def states(self) -> frozenset[str]:
        found = {START, *GENERIC_FINAL, *self.final, TIMED_OUT}
        for table in (self.transitions, self.targets or {}):
            for (state, _, _), nxt in table.items():
                found.update((state, nxt))
        return frozenset(found)

    @property
    def opening(self) -> tuple[Performative, ...]:
        """The acts that may open the conversation."""
        return tuple(p for p in self.allowed(START, Role.INITIATOR) if p is not None)

    def allowed(self, state: str, role: Role, kind: Kind = Kind.PARTICIPANT
                ) -> tuple[Performative | None, ...]:
        """The acts ``role`` may send to or from a party in ``state`` (None: any act)."""
        return tuple(dict.fromkeys(
            perf for (s, perf, r) in self.table(kind) if s == state and r is role))

    def next_state(self, kind: Kind, state: str, perf: Performative, role: Role) -> str | None:
        table = self.table(kind)
        found = table.get((state, perf, role))
        return found if found is not None else table.get((state, None, role))


def rows(*specs: tuple[str, str, Role, str]) -> dict[Key, str]:
    """A table from ``(states, performatives, role, next)`` rows, where ``states`` and
    ``performatives`` may list several separated by ``|`` and ``*`` means any act."""
    table: dict[Key, str] = {}
    for states, perfs, role, nxt in specs:
        for state in states.split("|"):
            for perf in _perfs(perfs):
                table[(state, perf, role)] = nxt
    return table


def _perfs(spec: str) -> Iterable[Performative | None]:
    return [None] if spec == "*" else [Performative(p) for p in spec.split("|")]


def violation(protocol: Protocol, text: str, perf: Performative,
              expected: Iterable[Performative | None] = ()) -> ProtocolViolation:
    """``"<protocol>: <text>; not '<perf>'"``, the shape every protocol error has."""
    return ProtocolViolation(
        f"{protocol.name}: {text}; not '{perf.value}'", protocol=protocol.name,
        performative=perf.value, expected=tuple("*" if p is None else p.value for p in expected))


def show(options: Iterable[Performative | None]) -> str:
    """``inform, failure`` (or ``any act``) for a message."""
    names = ["any act" if p is None else p.value for p in options]
    return ", ".join(names) if names else "nothing"
