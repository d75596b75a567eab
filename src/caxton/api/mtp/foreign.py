"""How a message looks to another platform, and how one from another platform is taken in.

Inside Caxton a local agent is just ``echo``; to the rest of the FIPA world it is
``echo@<platform>`` with this platform's ``/acc`` URL as its transport address. Agents elsewhere
are named as their platform names them, with the addresses the message carries for them
(``AclMessage.addresses``), which is also how the router tells them apart: a name the message
has addresses for is foreign, every other name is ours.

Inbound, the transport envelope decides delivery (SC00067): a message goes to the envelope's
``intended-receiver`` agents (else its ``to``), whatever its ``:receiver`` lists, and only the
addresses of the agents that replies go to are kept, so Caxton never relays a message on to a
third platform it was not meant for.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from caxton.api.mtp.resolver import guid
from caxton.codecs import sexpr
from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.envelope_xml import NAME as ENVELOPE_NAME
from caxton.codecs.envelope_xml import Envelope
from caxton.domain.acl import AclMessage, Performative, parse_message
from caxton.domain.ids import PLATFORM_AGENT, new_id
from caxton.domain.platforms import platform_of
from caxton.errors import InvalidMessageError, MalformedEnvelopeError

MANAGEMENT_ONTOLOGY = "FIPA-Agent-Management"
SL = "fipa-sl"
# Where a peer may put the W3C traceparent: the ACL (Caxton writes X-caxton-traceparent, read by
# the codec), a plain X-traceparent user parameter, an envelope user-defined slot, the HTTP
# header; the first one found wins.
TRACE_SLOTS = ("x-caxton-traceparent", "x-traceparent", "traceparent")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


# -- outbound ----------------------------------------------------------------------------------
def outbound(msg: AclMessage, receiver: str, *, platform: str, acc_url: str,
             urls: tuple[str, ...] = ()) -> tuple[AclMessage, AgentIdentifier]:
    """``msg`` as the platform of ``receiver`` should read it, and the envelope's receiver
    (with the message's addresses for it, else ``urls``: where it is being sent).

    Local names become GUIDs with ``acc_url`` as their address; the platform's own
    ``undeliverable`` failures get FIPA content (``mts_error``).
    """
    foreign = msg.addresses

    def name(local: str) -> str:
        return local if local in foreign else guid(local, platform)

    addresses = dict(foreign)
    if acc_url:
        for local in (msg.sender, *msg.receiver, *msg.reply_to):
            if local not in foreign:
                addresses[name(local)] = (acc_url,)
    out = dataclasses.replace(
        msg, sender=name(msg.sender), receiver=tuple(name(r) for r in msg.receiver),
        reply_to=tuple(name(r) for r in msg.reply_to), addresses=addresses, _wire=None)
    content = mts_error(msg, out, platform)
    if content is not None:
        out.content, out.language, out.ontology = content, SL, MANAGEMENT_ONTOLOGY
    return out, AgentIdentifier(receiver, foreign.get(receiver) or urls)


def mts_error(failure: AclMessage, out: AclMessage, platform: str) -> str | None:
    """The FIPA content of the AMS's report that a message could not be delivered, or None
    when ``failure`` is not such a report.

    ``((action <sender> ACLMessage) (MTS-error <receiver> (internal-error "<reason>")))``, the
    shape JADE's MTS writes and its agents parse; the reason starts with ``agent-not-found:``
    when no such agent exists.
    """
    content: Any = failure.content
    if (failure.sender != PLATFORM_AGENT or failure.performative is not Performative.FAILURE
            or not isinstance(content, dict) or content.get("error") != "undeliverable"):
        return None
    receiver = guid(str(content.get("receiver") or "unknown"), platform)
    reason = str(content.get("reason") or "undeliverable")
    if reason.startswith("no agent named"):
        reason = f"agent-not-found: {reason}"
    actor = out.receiver[0] if out.receiver else out.sender
    return (f"((action {_aid(actor, out)} ACLMessage) "
            f"(MTS-error {_aid(receiver, out)} (internal-error {sexpr.string(reason)})))")


def _aid(name: str, msg: AclMessage) -> str:
    urls = msg.addresses.get(name, ())
    text = f"(agent-identifier :name {sexpr.word_or_string(name)}"
    if urls:
        text += " :addresses (sequence " + " ".join(sexpr.word_or_string(u) for u in urls) + ")"
    return text + ")"


def traceparent(msg: AclMessage) -> str | None:
    return msg.trace_context.get("traceparent") if msg.trace_context else None


# -- inbound -----------------------------------------------------------------------------------
def inbound(envelope: Envelope, msg: AclMessage, *, header_trace: str | None = None
            ) -> AclMessage:
    """The message to route for an MTP delivery of ``msg`` under ``envelope``.

    Raises MalformedEnvelopeError when what the envelope says cannot be routed (a receiver name
    Caxton cannot carry, too many addresses...).
    """
    receivers = list(dict.fromkeys(aid.name for aid in envelope.intended_receiver))
    keep = {msg.sender, *msg.reply_to} - set(receivers)
    addresses = {name: list(urls) for name, urls in msg.addresses.items() if name in keep}
    sender = envelope.from_
    if sender is not None and sender.addresses and sender.name.lower() == msg.sender.lower():
        known = addresses.setdefault(msg.sender, [])
        known += [url for url in sender.addresses if url not in known]
    # An agent of the sender's own platform that comes without addresses (JADE writes none for
    # a reply-to it names by local name) is reached where the sender is: a FIPA agent's
    # transport addresses are its platform's.
    home = (platform_of(msg.sender) or "").lower()
    for name in keep:
        if not addresses.get(name) and home and (platform_of(name) or "").lower() == home \
                and addresses.get(msg.sender):
            addresses[name] = list(addresses[msg.sender])
    obj = msg.to_dict()
    obj["receiver"] = receivers
    obj["addresses"] = addresses or None
    if msg.conversation_id is None:
        obj["conversation_id"] = new_id()  # as for API clients: the exchange is recorded
    if not msg.trace_context:
        found = _trace(envelope, msg, header_trace)
        if found is not None:
            obj["trace_context"] = {"traceparent": found}
    try:
        routed = parse_message(obj)
    except InvalidMessageError as exc:
        where = "intended-receiver" if exc.field == "receiver" else exc.field
        raise MalformedEnvelopeError(f"{ENVELOPE_NAME}: {where}: {exc.reason}") from None
    routed.hops = msg.hops  # a loop through other platforms still meets the hop limit
    return routed


def _trace(envelope: Envelope, msg: AclMessage, header: str | None) -> str | None:
    acl = {key.lower(): value for key, value in msg.user_params.items()}
    env = {href.lower(): text for href, text in envelope.user_defined}
    for value in (*(acl.get(key) for key in TRACE_SLOTS),
                  *(env.get(key) for key in TRACE_SLOTS), header):
        if value is not None and _TRACEPARENT.fullmatch(value.strip().lower()):
            return value.strip().lower()
    return None
