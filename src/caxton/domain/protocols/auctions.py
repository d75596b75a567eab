"""fipa-auction-english and fipa-auction-dutch (XC00031, XC00032).

The auctioneer (initiator) may announce the auction with ``inform``, then calls for bids with a
``cfp`` carrying the price, each round by a ``reply_by``. Bidders answer ``propose`` or stay
silent; the auctioneer answers bids with ``accept-proposal`` or ``reject-proposal``. It ends the
auction with ``inform`` to every bidder and may then ``request`` the winner to settle (pay,
deliver), which the winner answers as in fipa-request.

English: prices rise; each round's accepted bid makes that bidder the leader (the previous
leader is outbid), and the leader when the auction closes has won. Dutch: prices fall; the first
accepted bid wins outright, after which the auctioneer may only reject the other bids and close.
Bids stamped after the round's ``reply_by`` are late and can only be rejected. Those two rules
coupling bidders are the ``check``/``effect`` hooks below; the rest is one automaton per bidder.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.protocols.base import INIT, PART, TGT, Party, Protocol, Role, rows, violation

if TYPE_CHECKING:
    from caxton.domain.protocols.state import ConversationState

_ROLES = {INIT: "auctioneer", PART: "bidder", TGT: "target"}
_IDLE = "called|outbid|late|timed-out"  # in a round, without an unanswered bid
_SETTLE = (
    ("won", "request", INIT, "settling"),
    ("settling", "agree", PART, "agreed"),
    ("settling", "refuse", PART, "refused"),
    ("settling|agreed", "inform", PART, "settled"),
    ("settling|agreed", "failure", PART, "failed"),
)
_FINAL = frozenset({"closed", "won", "refused", "settled", "failed"})


def _one_bid_at_a_time(before: ConversationState, msg: AclMessage, role: Role) -> None:
    if msg.performative is Performative.ACCEPT_PROPOSAL and len(msg.receiver) > 1:
        raise violation(before.protocol, "one bid is accepted at a time", msg.performative)


def _outbid(before: ConversationState, parties: dict[str, Party], msg: AclMessage,
            role: Role) -> None:
    """English: a newly accepted bid outbids the previous leader."""
    if role is INIT and msg.performative is Performative.ACCEPT_PROPOSAL:
        for name, party in parties.items():
            if party.state == "leading" and name not in msg.receiver:
                parties[name] = replace(party, state="outbid")


def _sold_once(before: ConversationState, msg: AclMessage, role: Role) -> None:
    """Dutch: the first accepted bid wins; no later round may start and no other bid win."""
    _one_bid_at_a_time(before, msg, role)
    winners = [n for n, p in before.parties.items()
               if p.state in ("won", "settling", "agreed", "settled")]
    if role is INIT and winners and msg.performative in (Performative.CFP,
                                                         Performative.ACCEPT_PROPOSAL):
        raise violation(before.protocol, f"the item went to {winners[0]}; the auctioneer may "
                        f"only reject other bids and close the auction (inform)",
                        msg.performative, (Performative.REJECT_PROPOSAL, Performative.INFORM))


ENGLISH_AUCTION = Protocol(
    name="fipa-auction-english",
    transitions=rows(
        ("start", "inform", INIT, "announced"),
        ("start|announced|bid|" + _IDLE, "cfp", INIT, "called"),
        ("leading", "cfp", INIT, "leading"),
        ("called|leading", "propose", PART, "bid"),
        ("bid", "accept-proposal", INIT, "leading"),
        ("bid|late", "reject-proposal", INIT, "outbid"),
        ("announced|bid|" + _IDLE, "inform", INIT, "closed"),
        ("leading", "inform", INIT, "won"),
        *_SETTLE,
    ),
    final=_FINAL,
    roles=_ROLES,
    awaiting=frozenset({"called"}),
    deadline_bound=frozenset({Performative.PROPOSE}),
    check=_one_bid_at_a_time,
    effect=_outbid,
)

DUTCH_AUCTION = Protocol(
    name="fipa-auction-dutch",
    transitions=rows(
        ("start", "inform", INIT, "announced"),
        ("start|announced|" + _IDLE, "cfp", INIT, "called"),
        ("called", "propose", PART, "bid"),
        ("bid", "accept-proposal", INIT, "won"),
        ("bid|late", "reject-proposal", INIT, "outbid"),
        ("announced|bid|" + _IDLE, "inform", INIT, "closed"),
        ("won", "inform", INIT, "won"),  # the end-of-auction notice reaches the winner too
        *_SETTLE,
    ),
    final=_FINAL,
    roles=_ROLES,
    awaiting=frozenset({"called"}),
    deadline_bound=frozenset({Performative.PROPOSE}),
    check=_sold_once,
)
