"""What the platform (``ams``) says about a conversation when the protocol is broken or time
runs out: the messages, built here so the conversation manager only decides when."""

from __future__ import annotations

from collections.abc import Mapping

from caxton.domain.acl import AclMessage, Performative, reply
from caxton.domain.ids import PLATFORM_AGENT
from caxton.domain.protocols.base import TIMED_OUT
from caxton.errors import ProtocolViolation

# What the platform says about conversations; never a step of one.
PLATFORM_REPORTS = frozenset({Performative.FAILURE, Performative.NOT_UNDERSTOOD,
                              Performative.REJECT_PROPOSAL})


def not_understood(msg: AclMessage, exc: ProtocolViolation) -> AclMessage:
    """The answer to a message its protocol does not allow, saying what it expected."""
    return reply(msg, sender=PLATFORM_AGENT, performative=Performative.NOT_UNDERSTOOD,
                 content={"error": "protocol-violation", "reason": exc.message,
                          "protocol": exc.protocol, "expected": list(exc.expected),
                          "message_id": msg.message_id})


def late_answer(msg: AclMessage, deadline: str | None) -> tuple[AclMessage, str]:
    """The rejection of an answer that came after its reply-by deadline, and why."""
    detail = (f"{msg.sender}'s '{msg.performative.value}' at {msg.timestamp} came after the "
              f"reply-by deadline {deadline}")
    return reply(msg, sender=PLATFORM_AGENT, performative=Performative.REJECT_PROPOSAL,
                 content={"error": "late", "reason": detail, "deadline": deadline}), detail


def timed_out(cid: str, protocol: str, to: tuple[str, ...], party: str,
              deadline: str | None, *, addresses: Mapping[str, tuple[str, ...]] | None = None
              ) -> tuple[AclMessage, str]:
    """The initiator's news that ``party`` did not answer by ``deadline``, and why.

    ``addresses`` are the transport addresses known for agents on other platforms (those of
    ``to`` are kept: an initiator elsewhere is reached through them)."""
    detail = f"{party} did not answer by its reply-by deadline {deadline}"
    known = addresses or {}
    return AclMessage(
        performative=Performative.FAILURE, sender=PLATFORM_AGENT, receiver=to,
        conversation_id=cid, protocol=protocol,
        content={"error": "timeout", "party": party, "deadline": deadline, "reason": detail,
                 "state": TIMED_OUT},
        addresses={name: known[name] for name in to if name in known}), detail


def expired(cid: str, protocol: str, idle_s: float, msg: AclMessage) -> ProtocolViolation:
    """The violation a message in a conversation given up for idleness is refused with."""
    return ProtocolViolation(
        f"{protocol}: the conversation expired after {idle_s:g}s without a message; not "
        f"'{msg.performative.value}'", protocol=protocol, performative=msg.performative.value)
