"""Unit tests for the FIPA HTTP MTP's pure parts: the platform resolver, how messages look to
other platforms (caxton.api.mtp.foreign) and the JSON payloads of caxton.codecs.mtp."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from caxton.api.mtp import Mtp, guid
from caxton.api.mtp.foreign import inbound, mts_error, outbound
from caxton.api.mtp.resolver import PlatformResolver
from caxton.codecs import envelope_xml, fipa_string, mtp, multipart
from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.envelope_xml import Envelope
from caxton.config import ServerConfig, load_config
from caxton.domain.acl import AclMessage, Performative, parse_message, reply
from caxton.domain.limits import DEFAULT_LIMITS
from caxton.errors import ConfigError, MalformedAclError, MalformedEnvelopeError
from caxton.router.local import PASS, Router
from caxton.runtime.conversations import ConversationManager, ConversationSettings
from caxton.sandbox.call_context import CallContext

ACC = "http://caxton.example:8080/acc"
JADE = "http://jade.example:7778/acc"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


# -- the resolver ------------------------------------------------------------------------------
def test_the_resolver_maps_our_guids_of_existing_agents() -> None:
    resolver = PlatformResolver("Caxton", lambda name: name in {"echo", "_client-1"})
    assert resolver.resolve("echo@caxton") == ("echo",)
    assert resolver.resolve("echo@CAXTON") == ("echo",)
    assert resolver.resolve("_client-1@caxton") == ("_client-1",)
    assert resolver.resolve("ams@caxton") == ("ams",)  # the platform's AMS always exists
    assert resolver.resolve("nobody@caxton") is None  # unknown: bounced under the name sent
    assert resolver.resolve("echo@jade") is None
    assert resolver.resolve("echo") is None  # plain names are the router's own business
    assert resolver.resolve("a@echo@caxton") is None
    assert resolver.resolve("@caxton") is None


def test_guids_name_local_agents_and_keep_foreign_names() -> None:
    assert guid("echo", "caxton") == "echo@caxton"
    assert guid("buyer@jade", "caxton") == "buyer@jade"


def test_attach_wires_the_resolver_into_a_router() -> None:
    router = Router(_NoLog())
    router.register("echo", _Sink())
    parts = Mtp.attach(router, platform="caxton", acc_url="", max_bytes=1024)
    try:
        msg = AclMessage(Performative.INFORM, "buyer@jade", ("echo@caxton",))
        router.resolve(msg)
        assert msg.receiver == ("echo",)
        parts.serving("127.0.0.1", 9000)
        assert parts.acc_url == "http://127.0.0.1:9000/acc"
        parts.serving("127.0.0.1", 9999)  # once set, kept
        assert parts.acc_url == "http://127.0.0.1:9000/acc"
    finally:
        parts.close(1)


def test_the_acc_url_names_the_machine_when_listening_everywhere() -> None:
    router = Router(_NoLog())
    parts = Mtp.attach(router, platform="caxton", acc_url="", max_bytes=1024)
    try:
        parts.serving("::", 8080)
        assert parts.acc_url.startswith("http://") and "::" not in parts.acc_url
    finally:
        parts.close(1)
    configured = Mtp.attach(router, platform="caxton", acc_url=ACC, max_bytes=1024)
    configured.serving("127.0.0.1", 1)
    assert configured.acc_url == ACC
    configured.close(1)


# -- outbound: what another platform reads -----------------------------------------------------
def _from_jade() -> AclMessage:
    return parse_message({
        "performative": "request", "sender": "buyer@jade", "receiver": ["echo"],
        "reply_with": "r-1", "conversation_id": "c-1", "addresses": {"buyer@jade": [JADE]},
        "content": "hi"})


def test_outbound_names_local_agents_by_guid_with_our_address() -> None:
    answer = reply(_from_jade(), sender="echo", performative=Performative.INFORM, content="hi")
    answer.reply_to = ("echo",)
    out, to = outbound(answer, "buyer@jade", platform="caxton", acc_url=ACC)
    assert (out.sender, out.receiver, out.reply_to) == ("echo@caxton", ("buyer@jade",),
                                                        ("echo@caxton",))
    assert out.addresses == {"buyer@jade": (JADE,), "echo@caxton": (ACC,)}
    assert to == AgentIdentifier("buyer@jade", (JADE,))
    assert (out.in_reply_to, out.conversation_id) == ("r-1", "c-1")
    assert answer.sender == "echo" and "echo@caxton" not in answer.addresses  # not mutated
    text = fipa_string.render(out)
    assert f":sender (agent-identifier :name echo@caxton :addresses (sequence {ACC}))" in text
    assert f":receiver (set (agent-identifier :name buyer@jade :addresses (sequence {JADE})))" \
        in text


def test_outbound_without_an_acc_url_gives_names_only() -> None:
    msg = AclMessage(Performative.INFORM, "alice", ("x@other", "bob"),
                     addresses={"x@other": ("http://other/acc",)})
    out, to = outbound(msg, "x@other", platform="caxton", acc_url="")
    assert out.receiver == ("x@other", "bob@caxton")
    assert out.addresses == {"x@other": ("http://other/acc",)}
    assert to.name == "x@other"


def test_the_ams_undeliverable_failure_becomes_an_mts_error() -> None:
    original = _from_jade()
    failure = reply(original, sender="ams", performative=Performative.FAILURE, content={
        "error": "undeliverable", "receiver": "nobody@caxton",
        "reason": "no agent named 'nobody@caxton'"})
    out, _ = outbound(failure, "buyer@jade", platform="caxton", acc_url=ACC)
    assert out.sender == "ams@caxton"
    assert (out.language, out.ontology) == ("fipa-sl", "FIPA-Agent-Management")
    assert out.content == (
        f"((action (agent-identifier :name buyer@jade :addresses (sequence {JADE})) ACLMessage)"
        " (MTS-error (agent-identifier :name nobody@caxton) (internal-error"
        " \"agent-not-found: no agent named 'nobody@caxton'\")))")
    stopped = reply(original, sender="ams", performative=Performative.FAILURE, content={
        "error": "undeliverable", "receiver": "echo", "reason": "agent 'echo' is stopped"})
    content = mts_error(stopped, outbound(stopped, "buyer@jade", platform="caxton",
                                          acc_url="")[0], "caxton")
    assert content is not None
    assert "(agent-identifier :name echo@caxton)" in content
    assert "(internal-error \"agent 'echo' is stopped\")" in content


def test_other_failures_keep_their_content() -> None:
    original = _from_jade()
    for msg in (reply(original, sender="echo", performative=Performative.FAILURE,
                      content={"error": "undeliverable"}),
                reply(original, sender="ams", performative=Performative.FAILURE,
                      content={"error": "fuel_exhausted"}),
                reply(original, sender="ams", performative=Performative.INFORM, content="x")):
        out, _ = outbound(msg, "buyer@jade", platform="caxton", acc_url=ACC)
        assert out.content == msg.content and out.ontology is None


# -- inbound: what an MTP delivery routes ------------------------------------------------------
def _aid(name: str, *urls: str) -> AgentIdentifier:
    return AgentIdentifier(name, urls)


def test_inbound_delivers_to_the_intended_receivers_only() -> None:
    msg = parse_message({
        "performative": "inform", "sender": "buyer@jade",
        "receiver": ["echo@caxton", "seller@jade"], "reply_to": ["boss@jade"],
        "addresses": {"echo@caxton": [ACC], "seller@jade": [JADE], "boss@jade": [JADE]}})
    envelope = Envelope(to=(_aid("echo@caxton", ACC), _aid("seller@jade", JADE)),
                        from_=_aid("BUYER@jade", JADE, "http://backup/acc"),
                        intended_receiver=(_aid("echo@caxton", ACC),))
    routed = inbound(envelope, msg)
    assert routed.receiver == ("echo@caxton",)
    # Only where replies go is kept: never an address to relay the message on to.
    assert routed.addresses == {"boss@jade": (JADE,),
                                "buyer@jade": (JADE, "http://backup/acc")}
    assert routed.conversation_id is not None and len(routed.conversation_id) == 32


def test_inbound_keeps_the_sender_addresses_of_the_envelope() -> None:
    msg = parse_message({"performative": "inform", "sender": "buyer@jade",
                         "receiver": ["echo@caxton"], "conversation_id": "c"})
    routed = inbound(Envelope(to=(_aid("echo@caxton"),), from_=_aid("buyer@jade", JADE)), msg)
    assert routed.addresses == {"buyer@jade": (JADE,)} and routed.conversation_id == "c"
    stranger = inbound(Envelope(to=(_aid("echo@caxton"),), from_=_aid("relay@x", JADE)), msg)
    assert stranger.addresses == {}


def test_inbound_reaches_a_reply_to_of_the_senders_platform_where_the_sender_is() -> None:
    # JADE writes no addresses for a reply-to named by its local name.
    msg = parse_message({"performative": "request", "sender": "asker@JadePlat",
                         "receiver": ["echo@caxton"], "reply_to": ["sink@jadeplat", "x@other"],
                         "addresses": {"asker@JadePlat": [JADE]}, "content": 1})
    routed = inbound(Envelope(to=(_aid("echo@caxton"),)), msg)
    assert routed.addresses == {"asker@JadePlat": (JADE,), "sink@jadeplat": (JADE,)}
    given = parse_message({**msg.to_dict(), "addresses": {"asker@JadePlat": [JADE],
                                                           "sink@jadeplat": ["http://s/acc"]}})
    assert inbound(Envelope(to=(_aid("echo@caxton"),)), given).addresses[
        "sink@jadeplat"] == ("http://s/acc",)  # its own addresses win
    answer = reply(routed, sender="echo", performative=Performative.INFORM)
    assert answer.addresses == {"sink@jadeplat": (JADE,)}  # x@other: nowhere to send


@pytest.mark.parametrize(("user_params", "slots", "header", "expected"), [
    ({"X-traceparent": TRACE}, (), None, TRACE),
    ({}, (("X-traceparent", TRACE),), None, TRACE),
    ({}, (("traceparent", TRACE.upper()),), None, TRACE),
    ({}, (), TRACE, TRACE),
    ({}, (("X-traceparent", "garbage"),), "also garbage", None),
])
def test_inbound_finds_the_trace_where_peers_put_it(
        user_params: dict[str, str], slots: tuple[tuple[str, str], ...], header: str | None,
        expected: str | None) -> None:
    msg = AclMessage(Performative.INFORM, "buyer@jade", ("echo",), user_params=user_params)
    routed = inbound(Envelope(to=(_aid("echo"),), user_defined=slots), msg, header_trace=header)
    assert routed.trace_context == ({"traceparent": expected} if expected else None)


def test_inbound_keeps_the_acl_trace_first() -> None:
    other = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    msg = AclMessage(Performative.INFORM, "buyer@jade", ("echo",),
                     trace_context={"traceparent": other})
    routed = inbound(Envelope(to=(_aid("echo"),)), msg, header_trace=TRACE)
    assert routed.trace_context == {"traceparent": other}


def test_inbound_refuses_receivers_caxton_cannot_route() -> None:
    msg = AclMessage(Performative.INFORM, "buyer@jade", ("echo",))
    with pytest.raises(MalformedEnvelopeError, match="intended-receiver: 'has space' is not"):
        inbound(Envelope(to=(_aid("has space"),)), msg)


# -- JSON payloads and envelope slots in the codec ---------------------------------------------
def _body(payload: bytes, representation: str) -> tuple[str, bytes]:
    envelope = envelope_xml.build(Envelope(to=(_aid("echo@caxton"),),
                                           acl_representation=representation))
    return multipart.build(envelope, payload)


def test_decode_reads_json_payloads_when_the_envelope_says_so() -> None:
    message = {"performative": "inform", "sender": "a@jade", "receiver": ["echo@caxton"],
               "content": {"n": [1, 2]}}
    for name in (mtp.JSON_NAME, "application/JSON"):
        _, msg = mtp.decode(*_body(orjson.dumps(message), name))
        assert msg.content == {"n": [1, 2]} and msg.sender == "a@jade"
    with pytest.raises(MalformedAclError, match=r"rep\.json: the payload is not valid JSON"):
        mtp.decode(*_body(b"{nope", mtp.JSON_NAME))
    with pytest.raises(MalformedAclError, match="field 'performative': is required"):
        mtp.decode(*_body(b'{"receiver": "x"}', mtp.JSON_NAME))


def test_encode_writes_user_defined_envelope_slots() -> None:
    msg = AclMessage(Performative.INFORM, "a", ("b",))
    envelope, _ = mtp.decode(*mtp.encode(msg, user_defined=(("X-traceparent", TRACE),)))
    assert envelope.user_defined == (("X-traceparent", TRACE),)


class _NoLog:
    def message_statements(self, msg: AclMessage, durable: tuple[str, ...]) -> list[object]:
        return []

    def submit(self, statements: list[object], on_commit: object = None) -> None:
        if callable(on_commit):
            on_commit(None)


class _Sink:
    durable = False

    def __init__(self) -> None:
        self.got: list[AclMessage] = []

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        self.got.append(msg)
        return None


def test_the_hop_count_crosses_the_mtp() -> None:
    msg = AclMessage(Performative.INFORM, "a@other", ("echo@caxton",), hops=41)
    text = fipa_string.render(msg)
    assert ':X-caxton-hops "41"' in text  # quoted: a bare 41 would read as a number
    assert ":X-caxton-hops" not in fipa_string.render(AclMessage(Performative.INFORM, "a", ("b",)))
    envelope, parsed = mtp.decode(*mtp.encode(msg))
    assert parsed.hops == 41 and parsed.user_params == {}
    assert inbound(envelope, parsed).hops == 41
    with pytest.raises(MalformedAclError, match="X-caxton-hops must be a count"):
        fipa_string.parse("(inform :sender a :receiver b :X-caxton-hops many)")


def test_config_checks_the_platform_name_and_acc_url() -> None:
    config = load_config(env={"CAXTON_PLATFORM_NAME": "host:1099/JADE",
                              "CAXTON_ACC_URL": "https://caxton.example/acc"})
    assert (config.platform_name, config.acc_url) == ("host:1099/JADE", "https://caxton.example/acc")
    assert (ServerConfig().platform_name, ServerConfig().acc_url) == ("caxton", "")
    with pytest.raises(ConfigError, match="platform_name"):
        ServerConfig(platform_name="has space")
    with pytest.raises(ConfigError, match="platform_name"):
        ServerConfig(platform_name="")
    with pytest.raises(ConfigError, match="acc_url must be an http"):
        ServerConfig(acc_url="iiop://caxton.example")


# -- conversations with agents of other platforms -------------------------------------------------
def test_a_late_reply_to_an_api_client_is_filed_under_its_inbox() -> None:
    # The client waited for the first answer (agree) only; the inform comes once its inbox is
    # gone from the router, still addressed to the GUID the client had on the wire.
    router = Router(_NoLog())
    manager = ConversationManager(ConversationSettings(), submit=lambda _: None,
                                  route=lambda _: None)
    router.observer = manager
    router.add_resolver(PlatformResolver("caxton", lambda n: router.lookup(n) is not None))
    assert PlatformResolver("caxton", lambda _: False).resolve("_client-9@caxton") == (
        "_client-9",)
    router.register("_client-1", _Sink())
    request = AclMessage(Performative.REQUEST, "_client-1", ("jresp@jade",), conversation_id="c",
                         protocol="fipa-request", addresses={"jresp@jade": (JADE,)})
    manager.observe(request)

    def answer(perf: Performative) -> AclMessage:
        msg = AclMessage(perf, "jresp@jade", ("_client-1@caxton",), conversation_id="c",
                         protocol="fipa-request", addresses={"jresp@jade": (JADE,)})
        router.resolve(msg)
        assert msg.receiver == ("_client-1",)
        return msg

    manager.observe(answer(Performative.AGREE))
    router.unregister("_client-1")  # the client has its answer and stops waiting
    manager.observe(answer(Performative.INFORM))
    assert manager.snapshot("c") is not None and manager.open_count == 0  # done


def test_another_platforms_ams_reports_are_part_of_the_conversation() -> None:
    manager = ConversationManager(ConversationSettings(), submit=lambda _: None,
                                  route=lambda _: None)
    request = AclMessage(Performative.REQUEST, "party", ("ghost@jade",), conversation_id="c",
                         protocol="fipa-request", reply_with="r-1",
                         addresses={"ghost@jade": (JADE,)})
    manager.observe(request)
    failure = AclMessage(
        Performative.FAILURE, "ams@jade", ("party",), conversation_id="c",
        protocol="fipa-request", in_reply_to="r-1", addresses={"ams@jade": (JADE,)},
        content='((action (agent-identifier :name party@caxton) ACLMessage) (MTS-error '
                '(agent-identifier :name ghost@jade) (internal-error "Agent not found")))')
    assert manager.observe(failure) is PASS  # delivered to party, not refused
    assert manager.observe(dataclasses.replace(failure, sender="AMS@jade")) is PASS
    assert manager.violations == 0


def test_a_timeout_report_reaches_an_initiator_on_another_platform() -> None:
    routed: list[AclMessage] = []
    manager = ConversationManager(ConversationSettings(), submit=lambda _: None,
                                  route=routed.extend)
    now = datetime.now(UTC)
    cfp = AclMessage(Performative.CFP, "cni@jade", ("b1", "b2"), conversation_id="cn",
                     protocol="fipa-contract-net", reply_to=("cni@jade", "log@jade"),
                     reply_by=(now + timedelta(seconds=1)).isoformat(),
                     addresses={"cni@jade": (JADE,), "log@jade": (JADE + "2",)})
    manager.observe(cfp)
    manager.sweep(now + timedelta(seconds=2))
    assert len(routed) == 2  # b1 and b2 timed out
    for report in routed:
        assert report.receiver == ("cni@jade", "log@jade")
        assert report.addresses == {"cni@jade": (JADE,), "log@jade": (JADE + "2",)}


class _Services:
    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return []

    def state_room(self, agent: str) -> int:
        return 0

    def agent_log(self, agent: str, level: int, text: str) -> None:
        return None


def test_an_agent_passing_a_foreign_message_on_keeps_the_foreign_addresses() -> None:
    # The forwarder sends a new message with reply_to the JADE sender; the echo it reaches
    # answers that reply_to, and the answer needs the JADE agent's address.
    ctx = CallContext(agent="forwarder", limits=DEFAULT_LIMITS, services=_Services())
    ctx.begin(AclMessage(Performative.REQUEST, "buyer@jade", ("forwarder",),
                         conversation_id="c", addresses={"buyer@jade": (JADE,)}))
    passed = orjson.dumps({"performative": "request", "receiver": ["echo"],
                           "reply_to": ["buyer@jade"], "content": 1})
    assert ctx.emit(passed, as_reply=False) == 0
    (sent,) = ctx.outbox
    assert sent.addresses == {"buyer@jade": (JADE,)}
    echo = reply(sent, sender="echo", performative=Performative.INFORM, content=1)
    assert echo.receiver == ("buyer@jade",) and echo.addresses == {"buyer@jade": (JADE,)}
    # Addresses the agent gives win; names the message does not use get none.
    own = orjson.dumps({"performative": "inform", "receiver": ["buyer@jade"],
                        "addresses": {"buyer@jade": ["http://elsewhere/acc"]}})
    assert ctx.emit(own, as_reply=False) == 0
    assert ctx.outbox[-1].addresses == {"buyer@jade": ("http://elsewhere/acc",)}
    assert ctx.emit(b'{"performative": "inform", "receiver": ["echo"]}', as_reply=False) == 0
    assert ctx.outbox[-1].addresses == {}
    # A reply to the JADE agent that names another of its agents in reply_to keeps both.
    ctx.begin(AclMessage(Performative.REQUEST, "buyer@jade", ("forwarder",),
                         reply_to=("buyer@jade", "log@jade"), conversation_id="c",
                         addresses={"buyer@jade": (JADE,), "log@jade": (JADE + "2",)}))
    assert ctx.emit(b'{"performative": "agree", "reply_to": ["log@jade"]}', as_reply=True) == 0
    assert ctx.outbox[-1].addresses == {"buyer@jade": (JADE,), "log@jade": (JADE + "2",)}
