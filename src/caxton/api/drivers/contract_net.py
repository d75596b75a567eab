"""The Contract Net driver (fipa-contract-net, FIPA SC00029) run for an API client.

One ``cfp`` with a ``reply_by`` deadline goes to every participant; their ``propose`` and
``refuse`` answers are collected until all have answered or the deadline passes. The
conversation manager keeps late proposals from the initiator (rejecting them itself) and tells
the initiator when a silent participant times out (a ``failure`` from ``ams``). The best proposal
by the request's rule (``domain.selection``) is accepted, every other one rejected with the
reason, and the winner's ``inform`` or ``failure`` awaited for a bounded time. The outcome lists
every participant's answer with its timing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from caxton.api.drivers.common import (
    ConversationInbox,
    check_fields,
    extras,
    optional_string,
    platform_report,
    receivers,
    seconds,
    transport_addresses,
)
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.ids import PLATFORM_AGENT, is_platform_agent, new_id
from caxton.domain.selection import PickRule, Proposal, select
from caxton.errors import AgentNotFoundError, InvalidMessageError, ProtocolViolation

if TYPE_CHECKING:
    from caxton.api.service import CaxtonService

PROTOCOL = "fipa-contract-net"
GRACE_S = 0.5  # after the deadline, for the platform's timeout reports to come in
_P = Performative
_FIELDS = frozenset({"receiver", "content", "deadline_s", "pick", "result_timeout_s",
                     "conversation_id", "language", "ontology", "addresses"})

# A participant's answer to the cfp.
PROPOSED, REFUSED, TIMED_OUT, LATE, FAILED = "proposed", "refused", "timed-out", "late", "failed"
# The outcome's status.
DONE, RESULT_FAILED, NO_RESULT = "done", "failed", "no-result"
NO_PROPOSALS, NONE_ACCEPTABLE = "no-proposals", "none-acceptable"
NO_ANSWER = "no answer by the reply-by deadline"


@dataclass(frozen=True, slots=True)
class ContractNetRequest:
    receivers: tuple[str, ...]
    content: Any = None
    deadline_s: float = 5.0
    pick: PickRule = field(default_factory=lambda: PickRule.parse(None))
    result_timeout_s: float = 10.0
    conversation_id: str | None = None
    extras: Mapping[str, str] = field(default_factory=dict)  # language, ontology, X- params
    # Transport addresses of participants on other platforms (else the address book's).
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Any) -> ContractNetRequest:
        """``{"receiver", "content", "deadline_s", "pick", "result_timeout_s",
        "conversation_id", "language", "ontology", "addresses", "X-...": "..."}``"""
        obj = check_fields(obj, _FIELDS)
        pick = obj.get("pick")
        if pick is not None and not isinstance(pick, str):
            raise InvalidMessageError("pick", "must be a string such as 'min:price'")
        names = receivers(obj)
        return cls(
            receivers=names, content=obj.get("content"), addresses=transport_addresses(obj, names),
            deadline_s=seconds(obj, "deadline_s", 5.0, exclusive_low=True),
            pick=PickRule.parse(pick),
            result_timeout_s=seconds(obj, "result_timeout_s", 10.0),
            conversation_id=optional_string(obj, "conversation_id"), extras=extras(obj))


@dataclass(slots=True)
class _Answer:
    agent: str
    answer: str | None = None  # None: still owed
    after_s: float | None = None
    message: AclMessage | None = None
    decision: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        msg = self.message
        return {"agent": self.agent, "answer": self.answer,
                "after_s": None if self.after_s is None else round(self.after_s, 6),
                "content": msg.content if msg is not None else None,
                "message_id": msg.message_id if msg is not None else None,
                "decision": self.decision, "reason": self.reason}


async def run_contract_net(service: CaxtonService, request: ContractNetRequest
                           ) -> dict[str, Any]:
    """Run one Contract Net for ``request``; returns the outcome (see docs/messaging.md)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    cid = request.conversation_id or new_id()
    reply_by = _iso(datetime.now(UTC) + timedelta(seconds=request.deadline_s))
    with ConversationInbox(service.router, cid) as inbox:
        names = _resolve(service, inbox.name, request.receivers)
        cfp_key = new_id()
        # A missing receiver raises after routing all the same: ams reports it as a failure.
        with contextlib.suppress(AgentNotFoundError):
            await service.send({
                "performative": _P.CFP.value, "sender": inbox.name, "receiver": list(names),
                "protocol": PROTOCOL, "conversation_id": cid, "reply_with": cfp_key,
                "reply_by": reply_by, **_addresses(request.addresses, names), **request.extras,
                "content": request.content})
        answers = {name: _Answer(name) for name in names}
        await _collect(inbox, cfp_key, answers, until=started + request.deadline_s + GRACE_S,
                       started=started)
        _settle_silent(service, cid, answers)
        proposals = sorted((a for a in answers.values() if a.answer == PROPOSED),
                           key=lambda a: a.after_s or 0.0)
        selection = select(request.pick, [Proposal(a.agent, a.message.content if a.message
                                                   else None) for a in proposals])
        sends = []
        for proposal, reason in selection.rejected:
            answer = answers[proposal.agent]
            answer.decision, answer.reason = "rejected", reason
            sends.append(_answer(service, inbox, request, answer, _P.REJECT_PROPOSAL,
                                 {"reason": reason, "rule": str(request.pick)}))
        winner = answers[selection.winner.agent] if selection.winner is not None else None
        if winner is not None:
            winner.decision = "accepted"
            sends.append(_answer(service, inbox, request, winner, _P.ACCEPT_PROPOSAL,
                                 winner.message.content if winner.message else None))
        await asyncio.gather(*sends)
        result = None
        if winner is not None:
            result = await _result(inbox, winner.agent,
                                   until=loop.time() + request.result_timeout_s)
    if winner is None:
        status = NO_PROPOSALS if not proposals else NONE_ACCEPTABLE
    elif result is None:
        status = NO_RESULT
    else:
        status = DONE if result[1].performative is _P.INFORM else RESULT_FAILED
    return {
        "conversation_id": cid, "protocol": PROTOCOL, "rule": str(request.pick),
        "reply_by": reply_by, "status": status,
        "winner": winner.agent if winner is not None else None,
        "proposal": winner.message.content if winner is not None and winner.message else None,
        "result": None if result is None else {
            "performative": result[1].performative.value, "content": result[1].content,
            "after_s": round(result[0] - started, 6), "message_id": result[1].message_id},
        "participants": [a.to_dict() for a in answers.values()],
        "elapsed_s": round(loop.time() - started, 6),
    }


def _resolve(service: CaxtonService, sender: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The agents ``names`` stand for (capability addresses such as ``service:T/all`` resolved
    once, here, so the driver knows whom it asked); a name nobody answers to stays as it is,
    and the router bounces it."""
    probe = AclMessage(performative=_P.CFP, sender=sender, receiver=names)
    service.router.resolve(probe)
    return probe.receiver


async def _collect(inbox: ConversationInbox, cfp_key: str, answers: dict[str, _Answer], *,
                   until: float, started: float) -> None:
    """Take answers until every participant has answered or the loop's clock reaches ``until``."""
    while any(a.answer is None for a in answers.values()):
        got = await inbox.next(until)
        if got is None:
            return
        at, msg = got
        if is_platform_agent(msg.sender):
            _platform_report(msg, cfp_key, answers, at - started)
            continue
        answer = answers.get(msg.sender)
        if answer is None or answer.answer is not None:
            continue
        kind = {_P.PROPOSE: PROPOSED, _P.REFUSE: REFUSED, _P.FAILURE: FAILED,
                _P.NOT_UNDERSTOOD: FAILED}.get(msg.performative)
        if kind is not None:
            answer.answer, answer.after_s, answer.message = kind, at - started, msg
            if kind != PROPOSED:
                answer.reason = _reason(msg.content)


def _platform_report(msg: AclMessage, cfp_key: str, answers: dict[str, _Answer],
                     after: float) -> None:
    content = msg.content if isinstance(msg.content, dict) else {}
    if (msg.sender == PLATFORM_AGENT and msg.performative is _P.NOT_UNDERSTOOD
            and msg.in_reply_to == cfp_key):
        raise ProtocolViolation(str(content.get("reason") or "the cfp broke the protocol"),
                                protocol=PROTOCOL, performative=_P.CFP.value)
    error, party = platform_report(msg)
    answer = answers.get(party) if party is not None else None
    if answer is None or answer.answer is not None:
        return
    answer.answer = TIMED_OUT if error == "timeout" else FAILED
    answer.after_s, answer.message = after, msg
    answer.reason = NO_ANSWER if error == "timeout" else (
        _reason(content) or _reason(msg.content) or "undeliverable")


def _settle_silent(service: CaxtonService, cid: str, answers: dict[str, _Answer]) -> None:
    """Participants still owing an answer after the deadline: late (the platform held their
    proposal back and rejected it) or timed out."""
    pending = [a for a in answers.values() if a.answer is None]
    if not pending:
        return
    # The conversation manager, when tracking is on (the router's observer may be None).
    snapshot = getattr(service.router.observer, "snapshot", None)
    state = snapshot(cid) if snapshot is not None else None
    parties = (state or {}).get("parties", {})
    for answer in pending:
        if parties.get(answer.agent, {}).get("state") == LATE:
            answer.answer = LATE
            answer.reason = "its proposal came after the reply-by deadline; the platform " \
                            "rejected it"
        else:
            answer.answer = TIMED_OUT
            answer.reason = NO_ANSWER


async def _answer(service: CaxtonService, inbox: ConversationInbox, request: ContractNetRequest,
                  to: _Answer, performative: Performative, content: Any) -> None:
    assert to.message is not None
    # Where a participant elsewhere lives: the request's addresses, else those its proposal came
    # with (the address book's when neither has any).
    known = {**to.message.addresses, **request.addresses}
    await service.send({
        "performative": performative.value, "sender": inbox.name, "receiver": [to.agent],
        "protocol": PROTOCOL, "conversation_id": inbox.conversation_id,
        "in_reply_to": to.message.reply_key, **_addresses(known, (to.agent,)),
        **request.extras, "content": content})


async def _result(inbox: ConversationInbox, winner: str, *, until: float
                  ) -> tuple[float, AclMessage] | None:
    """The winner's inform or failure (or the platform's failure for it), if one comes."""
    while (got := await inbox.next(until)) is not None:
        _, msg = got
        if msg.sender == winner and msg.performative in (_P.INFORM, _P.FAILURE,
                                                          _P.NOT_UNDERSTOOD):
            return got
        if platform_report(msg)[1] == winner:
            return got
    return None


def _addresses(known: Mapping[str, tuple[str, ...]], names: tuple[str, ...]
               ) -> dict[str, Any]:
    """The ``addresses`` member for a message to ``names`` (none when nothing is known)."""
    found = {name: list(known[name]) for name in names if name in known}
    return {"addresses": found} if found else {}


def _reason(content: Any) -> str | None:
    if isinstance(content, dict):
        for key in ("reason", "error"):
            if isinstance(content.get(key), str):
                return str(content[key])
    if content is None:
        return None
    return content if isinstance(content, str) else None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
