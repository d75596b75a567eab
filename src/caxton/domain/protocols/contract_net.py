"""fipa-contract-net and fipa-iterated-contract-net (SC00029, SC00030).

One ``cfp`` goes to many participants; each answers ``propose`` or ``refuse`` by the cfp's
``reply_by``. The initiator answers every proposal with ``accept-proposal`` or
``reject-proposal``, and each accepted participant reports ``inform`` (done or result) or
``failure``. Every participant is its own copy of that automaton, so "accept two, reject the
rest" needs no special casing.

Deadlines: a proposal stamped after the cfp's ``reply_by`` is *late*: the participant moves to
``late`` (an end state) and the initiator may only reject it, which is FIPA's "late proposals
are rejected". A participant that stays silent is found by ``state.overdue`` and timed out by
``state.expire``; a refusal may still arrive after that.

The iterated variant lets the initiator answer a proposal with a revised ``cfp`` instead, which
starts another round with that participant (those it does not want it rejects).
"""

from __future__ import annotations

from caxton.domain.acl import Performative
from caxton.domain.protocols.base import INIT, PART, Protocol, Role, rows

_ROWS: tuple[tuple[str, str, Role, str], ...] = (
    ("start", "cfp", INIT, "invited"),
    ("invited", "propose", PART, "proposed"),
    ("invited|timed-out", "refuse", PART, "refused"),
    ("proposed", "accept-proposal", INIT, "accepted"),
    ("proposed|late", "reject-proposal", INIT, "rejected"),
    ("accepted", "inform", PART, "done"),
    ("accepted", "failure", PART, "failed"),
)
_FINAL = frozenset({"refused", "rejected", "done", "failed", "late", "timed-out"})

CONTRACT_NET = Protocol(
    name="fipa-contract-net",
    transitions=rows(*_ROWS),
    final=_FINAL,
    awaiting=frozenset({"invited"}),
    deadline_bound=frozenset({Performative.PROPOSE}),
)

ITERATED_CONTRACT_NET = Protocol(
    name="fipa-iterated-contract-net",
    transitions=rows(*_ROWS, ("proposed|late", "cfp", INIT, "invited")),
    final=_FINAL,
    awaiting=frozenset({"invited"}),
    deadline_bound=frozenset({Performative.PROPOSE}),
)
