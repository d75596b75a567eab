"""Message cascades: how the platform tells a runaway loop or a fork bomb from a long dialogue.

A *cascade* is every message caused, directly or not, by one message that came from outside the
agents (an API client, another platform, a platform timer): each message an agent sends while
handling another belongs to that one's cascade. Two measures bound a cascade, and neither grows
in a dialogue, however long it runs:

- **hops**, the answers in a row: a message sent while handling another has one hop more than
  it, unless it is a *new request* (an act that opens an exchange, sent without
  ``in_reply_to``), which starts the count afresh. A game played as request/reply pairs stays
  at one or two hops for ever; two agents answering each other's answers (echo to echo, an
  agent whose ``reply_to`` is itself) climb one hop per message until they are cut.
- **width**, the cascade's messages in flight: queued at or being handled by agents, plus
  those it had bounced. A dialogue has one or two in flight; a fork bomb (every message makes
  two more) doubles its width every generation, whatever its acts.

The accounting lives in ``runtime.cascades``; these are its pure rules.
"""

from __future__ import annotations

from caxton.domain.acl import AclMessage, Performative

# Acts that open an exchange (the first act of a FIPA interaction protocol): sent afresh, not
# as an answer, they start a new chain of hops.
STARTING_ACTS = frozenset({
    Performative.REQUEST, Performative.REQUEST_WHEN, Performative.REQUEST_WHENEVER,
    Performative.QUERY_IF, Performative.QUERY_REF, Performative.SUBSCRIBE, Performative.CFP,
    Performative.PROPOSE, Performative.PROXY, Performative.PROPAGATE,
})

LOOP, FANOUT = "loop", "fanout"  # why a cascade is cut


def chain_hops(cause: AclMessage, msg: AclMessage) -> int:
    """The hops of ``msg``, sent while ``cause`` was being handled."""
    if msg.performative in STARTING_ACTS and msg.in_reply_to is None:
        return 0
    return cause.hops + 1


def loop_detail(msg: AclMessage, max_hops: int) -> str:
    return (f"{msg.hops} answers in a row without a new request passed the limit of {max_hops}"
            f" (max_hops): a reply loop?")


def fanout_detail(in_flight: int, max_in_flight: int) -> str:
    return (f"its cascade already had {in_flight} messages in flight (the limit,"
            f" max_cascade_in_flight, is {max_in_flight}): a fork bomb?")


__all__ = ["FANOUT", "LOOP", "STARTING_ACTS", "chain_hops", "fanout_detail", "loop_detail"]
