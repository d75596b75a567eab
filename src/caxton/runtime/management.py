"""What the platform agents ``df`` and ``ams`` share: FIPA-Agent-Management over fipa-request.

They are router destinations, not WebAssembly agents: not durable, and they answer on the
routing thread by routing a reply, reading only memory, so they stay cheap. A request's content
is either JSON::

    {"action": "search", "description": {"services": [{"type": "translate"}]}, "max_results": 10}

or FIPA-SL0 as JADE sends it (``caxton.codecs.fipa_sl``); the answer comes in the same form.
Per fipa-request the answer is ``inform`` (the result), ``refuse`` (a request this agent will
not do: unsupported action, a bad description, not authorised), ``failure`` (it tried:
already registered, not registered) or ``not-understood`` (the content or act makes no sense).
``failure`` and ``not-understood`` are never answered, and neither is a stray reply: that is
how loops start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from caxton.codecs import fipa_sl
from caxton.codecs.fipa_sl import SlAction
from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, reply
from caxton.errors import (
    AlreadyRegisteredError,
    CaxtonError,
    InvalidMessageError,
    MalformedAclError,
    NotRegisteredError,
)

log = structlog.get_logger("caxton.platform")
ONTOLOGY = "fipa-agent-management"
_JSON_KEYS = frozenset({"action", "description", "max_results"})


@dataclass(frozen=True, slots=True)
class Request:
    act: str
    body: dict[str, Any]  # the JSON form, whichever form it came in
    sl: SlAction | None  # set when it came in SL: the answer goes back in SL


@dataclass(frozen=True, slots=True)
class Result:
    """What an action produced: ``value`` for JSON; ``sl_items`` for an SL ``result``
    sequence, or None for SL ``done``."""

    value: Any
    sl_items: list[str] | None = None


class Refused(Exception):  # noqa: N818 - an answer, not a malfunction
    """A ``refuse``, ``failure`` or ``not-understood`` answer: the FIPA reason (``kind``,
    e.g. ``unauthorised``) and the explanation; ``action`` when read from SL."""

    def __init__(self, performative: Performative, kind: str, reason: str,
                 action: SlAction | None = None) -> None:
        super().__init__(reason)
        self.performative, self.kind, self.reason = performative, kind, reason
        self.action = action


def refuse(kind: str, reason: str) -> Refused:
    return Refused(Performative.REFUSE, kind, reason)


class ManagementAgent:
    """A platform agent: decode the request, ``perform`` it, route the answer."""

    durable = False
    name = ""

    def __init__(self, route: Callable[[AclMessage], None]) -> None:
        self._route = route
        self.answered = 0

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        try:
            self._handle(msg)
        except Exception:
            log.exception("platform agent failed", agent=self.name, message_id=msg.message_id)
        return None

    def perform(self, msg: AclMessage, request: Request) -> Result:
        raise NotImplementedError

    def from_sl(self, action: SlAction) -> dict[str, Any]:
        """The JSON body of an SL request (subclasses know their acts' arguments)."""
        raise NotImplementedError

    def _handle(self, msg: AclMessage) -> None:
        if msg.performative in ERROR_ACTS:
            return  # a bounce or a complaint: never answered
        if msg.performative is not Performative.REQUEST:
            if msg.in_reply_to is None:  # not a reply to something: say what we take
                self._answer(msg, None, Refused(
                    Performative.NOT_UNDERSTOOD, "unsupported-act",
                    f"{self.name} takes fipa-request 'request' messages, not "
                    f"'{msg.performative.value}'"))
            return
        request: Request | None = None
        try:
            if msg.ontology is not None and msg.ontology.lower() != ONTOLOGY:
                raise Refused(Performative.NOT_UNDERSTOOD, "unsupported-value",
                              f"ontology '{msg.ontology}' is not {ONTOLOGY}")
            request = self._decode(msg)
            result = self.perform(msg, request)
        except Refused as exc:
            self._answer(msg, request, exc)
            return
        except CaxtonError as exc:
            self._answer(msg, request, _as_refusal(exc))
            return
        except Exception as exc:  # a bug: still answer, so the requester is not left waiting
            log.exception("platform agent failed", agent=self.name, message_id=msg.message_id)
            self._answer(msg, request, Refused(Performative.FAILURE, "internal-error",
                                               f"internal error: {type(exc).__name__}"))
            return
        self._answer(msg, request, result)

    def _decode(self, msg: AclMessage) -> Request:
        content = msg.content
        sl = isinstance(content, str) and (
            (msg.language or "").lower().startswith("fipa-sl") or content.lstrip()[:1] == "(")
        try:
            if sl:
                action = fipa_sl.parse_action(content)
                try:
                    body = {"action": action.act, **self.from_sl(action)}
                except InvalidMessageError as exc:
                    # The action was read: a bad argument is refused, in SL.
                    refused = _as_refusal(exc)
                    refused.action = action
                    raise refused from None
                return Request(action.act, body, action)
            if isinstance(content, str):
                content = orjson.loads(content)
        except MalformedAclError as exc:
            raise Refused(Performative.NOT_UNDERSTOOD, "unrecognised-value",
                          exc.message) from None
        except orjson.JSONDecodeError:
            raise Refused(Performative.NOT_UNDERSTOOD, "unrecognised-value",
                          "the content is neither JSON nor FIPA-SL") from None
        if not isinstance(content, dict) or not isinstance(content.get("action"), str):
            raise Refused(Performative.NOT_UNDERSTOOD, "unrecognised-value",
                          'the content must be {"action": ..., ...} or an SL action')
        for key in content:
            if key not in _JSON_KEYS:
                raise refuse("unrecognised-parameter-value", f"field '{key}': unknown field")
        return Request(content["action"].lower(), content, None)

    def _answer(self, msg: AclMessage, request: Request | None, outcome: Result | Refused
                ) -> None:
        sl = request.sl if request is not None else (
            outcome.action if isinstance(outcome, Refused) else None)
        asked_in_sl = sl is not None or (isinstance(msg.content, str)
                                         and msg.content.lstrip()[:1] == "(")
        if isinstance(outcome, Refused):
            performative = outcome.performative
            if asked_in_sl:
                content: Any = fipa_sl.render_error(sl, outcome.kind, outcome.reason)
            else:
                content = {"error": outcome.kind, "reason": outcome.reason}
                if request is not None:
                    content["action"] = request.act
        else:
            performative = Performative.INFORM
            if sl is not None:
                content = (fipa_sl.render_done(sl) if outcome.sl_items is None
                           else fipa_sl.render_result(sl, outcome.sl_items))
            else:
                assert request is not None  # a result answers a decoded request
                content = {"action": request.act, "result": outcome.value}
        self.answered += 1
        self._route(reply(msg, sender=self.name, performative=performative, content=content))


def _as_refusal(exc: CaxtonError) -> Refused:
    if isinstance(exc, InvalidMessageError):
        kind = "missing-parameter" if exc.reason == "is required" else \
            "unrecognised-parameter-value"
        return refuse(kind, exc.message)
    if isinstance(exc, AlreadyRegisteredError):
        return Refused(Performative.FAILURE, "already-registered", exc.message)
    if isinstance(exc, NotRegisteredError):
        return Refused(Performative.FAILURE, "not-registered", exc.message)
    return Refused(Performative.FAILURE, "internal-error", exc.message)
