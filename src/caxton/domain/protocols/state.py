"""A conversation's progress through its interaction protocol, as an immutable value.

``ConversationState.advance(message, from_initiator)`` returns the next state or raises
``ProtocolViolation`` saying what the protocol expected instead, so the conversation manager can
answer ``not-understood`` with a reason and record it. Being a value (and JSON-able through
``to_dict``/``from_dict``) is what lets the manager persist it and survive restarts.

Deadlines: an initiator message with ``reply_by`` gives each receiver that deadline. A
deadline-bound answer (a proposal, a bid) whose timestamp is past it moves the party to ``late``
instead, for the initiator to reject. ``overdue``/``expired`` tell which parties still owe an
answer after their deadline, and ``expire`` marks them ``timed-out``, which ends their part
where the protocol says so (not in auctions, where a silent bidder has only skipped a round).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.protocols.base import (
    CANCELLED,
    LATE,
    NOT_UNDERSTOOD,
    START,
    TIMED_OUT,
    Kind,
    Party,
    Protocol,
    Role,
    show,
    violation,
)

_P = Performative


@dataclass(frozen=True, slots=True)
class ConversationState:
    """Where one conversation stands: its protocol, initiator and each party's ``Party``."""

    protocol: Protocol
    initiator: str | None = None
    initiator_addresses: frozenset[str] = frozenset()
    parties: Mapping[str, Party] = field(default_factory=dict)

    @classmethod
    def start(cls, protocol: Protocol) -> ConversationState:
        return cls(protocol)

    @property
    def done(self) -> bool:
        """Every party's part has ended (successfully or not)."""
        return bool(self.parties) and all(
            self.protocol.is_final(p.state) for p in self.parties.values())

    def party(self, name: str) -> Party:
        return self.parties.get(name, Party())

    def aside(self, message: AclMessage) -> bool:
        """Whether a participant's ``message`` goes only to agents outside the conversation (a
        note to a ledger, an answer to the platform's not-understood): no step of a protocol
        without targets, so not checked (and an agent that answers everything cannot loop with
        the platform)."""
        if self.protocol.targets is not None:
            return False  # a broker contacting targets is a step
        inside = self.initiator_addresses | set(self.parties)
        return not any(r in inside for r in message.receiver)

    def advance(self, message: AclMessage, from_initiator: bool) -> ConversationState:
        """The state after ``message``; ProtocolViolation if the protocol forbids it here.

        ``from_initiator`` says whether the conversation's initiator sent it (the caller knows:
        the first message's sender, or one of its ``reply_to`` addresses); any other message is
        attributed to its ``sender``, which must be a participant or a contacted target.
        """
        proto, perf = self.protocol, message.performative
        if self.initiator is None and not from_initiator:
            raise violation(proto, f"the conversation begins with the "
                            f"{proto.roles[Role.INITIATOR]}'s {show(proto.opening)}, not with "
                            f"{message.sender}'s message", perf, proto.opening)
        if proto.check is not None:
            proto.check(self, message, Role.INITIATOR if from_initiator else Role.PARTICIPANT)
        initiator = self.initiator or message.sender
        addresses = self.initiator_addresses | {initiator}
        parties = dict(self.parties)
        if from_initiator:
            role = Role.INITIATOR
            addresses |= {message.sender, *message.reply_to}
            receivers = [r for r in message.receiver if r not in addresses]
            if not receivers:
                raise violation(proto, "the initiator's message is addressed to no other party",
                                perf)
            multi = len(set(parties) | set(receivers)) > 1
            for name in receivers:
                parties[name] = _step(proto, name, parties.get(name, Party()), message, role,
                                      multi=multi)
        else:
            role = self._participant_step(parties, addresses, message)
        if proto.effect is not None:
            proto.effect(self, parties, message, role)
        return ConversationState(proto, initiator, addresses, parties)

    def _participant_step(self, parties: dict[str, Party], addresses: frozenset[str],
                          message: AclMessage) -> Role:
        proto, sender = self.protocol, message.sender
        party = parties.get(sender)
        if party is None:
            raise violation(proto, f"{sender} is not a party to this conversation",
                            message.performative)
        multi = len(parties) > 1
        if party.kind is Kind.TARGET:
            parties[sender] = _step(proto, sender, party, message, Role.TARGET, multi=multi)
            return Role.TARGET
        others = [r for r in message.receiver if r not in addresses and r != sender]
        if proto.targets is None:
            others = []
        if others and party.state not in proto.forward_from:
            raise violation(proto, f"{sender} may contact other agents only after agreeing "
                            f"(it is at '{party.last}')", message.performative)
        for name in others:
            target = parties.get(name, Party(kind=Kind.TARGET))
            if target.kind is not Kind.TARGET:
                raise violation(proto, f"{name} is a participant, not a target",
                                message.performative)
            parties[name] = _step(proto, name, target, message, Role.PARTICIPANT, multi=multi)
        if len(others) < len(message.receiver):
            parties[sender] = _step(proto, sender, party, message, Role.PARTICIPANT, multi=multi)
        return Role.PARTICIPANT

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (``from_dict`` reverses it) for the conversation store."""
        return {
            "protocol": self.protocol.name,
            "initiator": self.initiator,
            "initiator_addresses": sorted(self.initiator_addresses),
            "parties": {name: {
                "kind": p.kind.value, "state": p.state,
                "last": p.last.value if p.last is not None else None,
                "last_by": p.last_by.value if p.last_by is not None else None,
                "deadline": p.deadline, "cancel": p.cancel,
            } for name, p in self.parties.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], protocol: Protocol) -> ConversationState:
        """The state ``to_dict`` wrote, for ``protocol`` (look it up with ``protocol_for``)."""
        if data.get("protocol") != protocol.name:
            raise ValueError(f"state of {data.get('protocol')!r}, not of {protocol.name!r}")
        parties = {name: Party(
            kind=Kind(p["kind"]), state=p["state"],
            last=Performative(p["last"]) if p.get("last") else None,
            last_by=Role(p["last_by"]) if p.get("last_by") else None,
            deadline=p.get("deadline"), cancel=p.get("cancel"),
        ) for name, p in data.get("parties", {}).items()}
        return cls(protocol, data.get("initiator"),
                   frozenset(data.get("initiator_addresses", ())), parties)


def _step(proto: Protocol, name: str, party: Party, msg: AclMessage, role: Role, *,
          multi: bool) -> Party:
    """``party`` after ``msg`` (sent by ``role``): generic FIPA rules first, then the table."""
    perf = msg.performative
    if perf is _P.NOT_UNDERSTOOD:
        if party.state == START:
            raise violation(proto, f"nothing has been said to {name} that it could not "
                            f"understand", perf)
        return replace(party, state=NOT_UNDERSTOOD, last=perf, last_by=role, cancel=None)
    if perf is _P.CANCEL and role is Role.INITIATOR:
        owing = Role.TARGET if party.kind is Kind.TARGET else Role.PARTICIPANT
        if party.state == START or not proto.allowed(party.state, owing, party.kind):
            what = f"after '{party.last}' " if party.last else ""
            raise violation(proto, f"{what}{name} owes the {proto.roles[role]} nothing to cancel",
                            perf)
        return replace(party, cancel=msg.reply_key)
    if role is not Role.INITIATOR and party.cancel is not None and perf in (
            _P.INFORM, _P.FAILURE) and msg.in_reply_to in (None, party.cancel):
        if perf is _P.INFORM:  # the cancel is done
            return replace(party, state=CANCELLED, last=perf, last_by=role, cancel=None)
        return replace(party, cancel=None)  # it could not cancel: carry on where it was
    if (role is Role.PARTICIPANT and perf in proto.deadline_bound
            and party.state in proto.awaiting | {TIMED_OUT} and _late(party, msg)):
        return replace(party, state=LATE, last=perf, last_by=role)
    nxt = proto.next_state(party.kind, party.state, perf, role)
    if nxt is None:
        raise _unexpected(proto, name, party, perf, role, multi=multi)
    deadline = msg.reply_by if role is Role.INITIATOR else party.deadline
    return Party(party.kind, nxt, perf, role, deadline, party.cancel)


def _unexpected(proto: Protocol, name: str, party: Party, perf: Performative, role: Role, *,
                multi: bool) -> Exception:
    options = proto.allowed(party.state, role, party.kind)
    who = proto.roles[role]
    about = ""
    if multi:
        about = f" to {name}" if party.last_by is Role.INITIATOR else f" from {name}"
    if party.state == START:
        if role is Role.INITIATOR:
            return violation(proto, f"the {who}'s first message to {name} must be "
                             f"{show(options)}", perf, options)
        return violation(proto, f"{name} has not been contacted in this conversation", perf)
    if party.state == LATE and role is Role.INITIATOR:
        return violation(proto, f"{name}'s '{party.last}' came after its reply-by deadline "
                         f"{party.deadline}; the {who} may send {show(options)}", perf, options)
    if party.state == TIMED_OUT:
        return violation(proto, f"{name} did not answer by {party.deadline}; its part timed out",
                         perf, options)
    if options:
        return violation(proto, f"after '{party.last}'{about} the {who} may send "
                         f"{show(options)}", perf, options)
    other = Role.INITIATOR if role is not Role.INITIATOR else (
        Role.TARGET if party.kind is Kind.TARGET else Role.PARTICIPANT)
    theirs = proto.allowed(party.state, other, party.kind)
    if not theirs and proto.is_final(party.state):
        with_whom = f" with {name}" if multi else ""
        return violation(proto, f"the conversation{with_whom} is over (it ended with "
                         f"'{party.last}')", perf)
    return violation(proto, f"after '{party.last}'{about} it is the {proto.roles[other]}'s turn "
                     f"({show(theirs)})", perf)


def _late(party: Party, msg: AclMessage) -> bool:
    if party.deadline is None:
        return False
    return _instant(msg.timestamp) > _instant(party.deadline)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def overdue(state: ConversationState, now: datetime) -> tuple[str, ...]:
    """The parties that still owe a governed answer after their reply-by deadline."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return tuple(name for name, p in state.parties.items()
                 if p.deadline is not None and p.state in state.protocol.awaiting
                 and _instant(p.deadline) < now)


def expired(state: ConversationState, now: datetime) -> bool:
    """Whether some party's reply-by deadline has passed while it still owes an answer."""
    return bool(overdue(state, now))


def expire(state: ConversationState, now: datetime) -> ConversationState:
    """``state`` with every overdue party marked ``timed-out`` (its late answers are refused,
    a late proposal becomes ``late``)."""
    late = overdue(state, now)
    if not late:
        return state
    parties = dict(state.parties)
    for name in late:
        parties[name] = replace(parties[name], state=TIMED_OUT)
    return replace(state, parties=parties)


def next_deadline(state: ConversationState) -> str | None:
    """The earliest reply-by a party still owes an answer by, as a ``utc_key``."""
    deadlines = [p.deadline for p in state.parties.values()
                 if p.deadline is not None and p.state in state.protocol.awaiting]
    return utc_key(min(deadlines)) if deadlines else None


def utc_key(text: str) -> str:
    """An ISO instant in one comparable form (UTC, microseconds, 'Z'): strings that sort as the
    instants do."""
    return _instant(text).astimezone(UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")
