"""ComponentInstance with the Python and JavaScript example agents (examples/agents/{python,
javascript}): echo, state, fuel, the deadline, traps and bad output, under real limits.

The components are built by scripts/build-components.sh and compiled once per machine (see
tests/component_support.py); the host services are an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from tests.component_support import COMPILED, LANGS, PROBE, compiled, component

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.limits import ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox import loader
from caxton.sandbox.component import ComponentInstance
from caxton.sandbox.engine import SandboxEngine
from caxton.sandbox.outcome import Outcome

pytestmark = pytest.mark.timeout(600)  # the first run on a machine compiles the components


class Services:
    """In-memory HostServices: committed state per key, and the agent's log."""

    def __init__(self) -> None:
        self.state: dict[str, bytes] = {}
        self.room = 64 * 1024 * 1024  # bytes of state the agent may still add
        self.logs: list[tuple[int, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return self.state.get(key)

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return sorted(k for k in self.state if k.startswith(prefix))[:limit]

    def state_room(self, agent: str) -> int:
        return self.room

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((level, text))

    def commit(self, outcome: Outcome) -> None:
        assert outcome.ok, outcome
        for key, value in outcome.state_writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value


Make = Callable[..., tuple[ComponentInstance, Services]]


@pytest.fixture(scope="module")
def engine() -> Iterator[SandboxEngine]:
    compiled()
    eng = SandboxEngine(epoch_tick_ms=5, cache_dir=COMPILED)
    eng.start()
    yield eng
    eng.stop()


@pytest.fixture
def make(engine: SandboxEngine) -> Iterator[Make]:
    made: list[ComponentInstance] = []

    def build(lang: str, name: str, **limits: Any) -> tuple[ComponentInstance, Services]:
        compiled_ = engine.compile(component(lang, name).read_bytes())
        resource_limits = ResourceLimits(**limits)
        loader.check(engine, compiled_, resource_limits)
        services = Services()
        instance = loader.instantiate(engine, compiled_, name=name, limits=resource_limits,
                                      services=services)
        assert isinstance(instance, ComponentInstance)
        made.append(instance)
        instance.initialize()
        return instance, services

    yield build
    for instance in made:
        instance.close()


def message(content: Any = None, performative: Performative = Performative.REQUEST,
            **fields: Any) -> AclMessage:
    fields.setdefault("conversation_id", "conv-1")
    return AclMessage(performative=performative, sender="client", receiver=("agent",),
                      content=content, **fields)


def only_send(outcome: Outcome) -> AclMessage:
    assert outcome.ok, outcome
    assert len(outcome.sends) == 1, outcome.sends
    return outcome.sends[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("content", [{"x": [1, 2.5, None]}, "ünïcødé ✓", [], 0, None])
def test_echo_replies_with_the_same_content(make: Make, lang: str, content: Any) -> None:
    echo, _ = make(lang, "echo")
    original = message(content, reply_with="rw-1", protocol="fipa-request")
    answer = only_send(echo.handle(original))
    assert answer.performative is Performative.INFORM
    assert answer.sender == "echo"  # forced by the host
    assert answer.receiver == ("client",)
    assert answer.content == content
    assert (answer.conversation_id, answer.in_reply_to) == ("conv-1", "rw-1")
    assert answer.protocol == "fipa-request"
    assert answer.hops == original.hops + 1


@pytest.mark.parametrize("lang", LANGS)
def test_echo_handles_many_messages_with_one_instance(make: Make, lang: str) -> None:
    echo, _ = make(lang, "echo")
    for i in range(200):
        assert only_send(echo.handle(message({"i": i}))).content == {"i": i}


@pytest.mark.parametrize("lang", LANGS)
def test_bidder_keeps_its_book_in_state(make: Make, lang: str) -> None:
    bidder, services = make(lang, "bidder")
    outcome = bidder.handle(message({"rate": 7}))
    assert only_send(outcome).content == {"rate": 7}
    assert outcome.state_writes == {"rate": b"7"}
    services.commit(outcome)
    outcome = bidder.handle(message({"task": "paint", "size": 3}, Performative.CFP))
    assert only_send(outcome).performative is Performative.PROPOSE
    assert only_send(outcome).content == {"price": 21, "task": "paint"}
    assert outcome.state_writes == {"bid:conv-1": b"21", "cfps": b"1"}
    services.commit(outcome)
    outcome = bidder.handle(message(None, Performative.ACCEPT_PROPOSAL,
                                    user_params={"X-Ledger": "books"}))
    assert outcome.ok, outcome
    tell, answer = outcome.sends
    assert (tell.receiver, tell.performative, tell.content) == (
        ("books",), Performative.INFORM, {"event": "won", "price": 21})
    assert tell.sender == "bidder" and tell.conversation_id == "conv-1"
    assert answer.content == {"done": True, "price": 21}
    assert outcome.state_writes == {"bid:conv-1": None, "won": b"1"}
    services.commit(outcome)
    figures = only_send(bidder.handle(message(None, Performative.QUERY_REF))).content
    assert figures == {"cfps": 1, "won": 1, "lost": 0, "confirmed": 0, "rate": 7}


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_handler_discards_its_state_writes_and_sends(make: Make, lang: str) -> None:
    bidder, services = make(lang, "bidder")
    services.state["bid:conv-1"] = b"50"
    # the bid is deleted and "won" bumped before the ledger's name turns out to be invalid
    outcome = bidder.handle(message(None, Performative.ACCEPT_PROPOSAL,
                                    user_params={"X-Ledger": "9 not a name"}))
    assert (outcome.ok, outcome.error_kind) == (False, "agent_error")
    assert "HostError: invalid: field 'receiver'" in (outcome.error or "")
    assert (outcome.sends, outcome.state_writes) == ([], {})
    assert services.state == {"bid:conv-1": b"50"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("what", "kind", "detail"), [
    ("bad-reply", "agent_error", "HostError: invalid: not valid JSON"),
    ("bad-send", "agent_error", "HostError: invalid: field 'receiver'"),
    ("raise", "agent_error", "exception requested"),
    ("trap", "unreachable", "wasm `unreachable` instruction executed"),
    ("spin", "fuel_exhausted", "all fuel consumed by WebAssembly"),
])
def test_faults_fail_the_message(make: Make, lang: str, what: str, kind: str,
                                 detail: str) -> None:
    faults, services = make(lang, "faults", fuel=20_000_000)
    outcome = faults.handle(message(what))
    assert (outcome.ok, outcome.error_kind) == (False, kind), outcome
    assert detail in (outcome.error or "")
    assert (outcome.sends, outcome.state_writes) == ([], {})
    if kind == "agent_error":  # an error result leaves the instance usable
        assert only_send(faults.handle(message("hello"))).content == "ok"
        assert any(detail in text for _, text in services.logs), services.logs


@pytest.mark.parametrize("lang", LANGS)
def test_a_spinning_agent_is_stopped_by_the_deadline(make: Make, lang: str) -> None:
    faults, _ = make(lang, "faults", fuel=10**12, timeout_ms=100)
    outcome = faults.handle(message("spin"))
    assert (outcome.error_kind, outcome.error) == ("timeout", "interrupt")
    assert 0.09 < outcome.duration_s < 10


@pytest.mark.parametrize("lang", LANGS)
def test_the_host_call_budget_traps_the_call(make: Make, lang: str) -> None:
    bidder, _ = make(lang, "bidder", max_host_calls=3)  # query-ref makes 5 state reads
    outcome = bidder.handle(message(None, Performative.QUERY_REF))
    assert (outcome.error_kind, outcome.error) == (
        "host_trap", "host call budget of 3 per message exhausted")


@pytest.mark.parametrize("lang", LANGS)
def test_messages_over_the_size_limit_never_reach_the_agent(make: Make, lang: str) -> None:
    echo, _ = make(lang, "echo", max_message_bytes=1024)
    outcome = echo.handle(message("x" * 2000))
    assert (outcome.error_kind, outcome.fuel_used) == ("too_large", 0)
    # what the agent sends is held to the same limit: this request fits, its echo does not
    request = message("y" * 800)
    assert len(request.to_wire()) < 1024
    outcome = echo.handle(request)
    assert outcome.error_kind == "agent_error", outcome
    assert "HostError: too-large" in (outcome.error or "")


@pytest.mark.parametrize(("lang", "minimum"), [("python", 12), ("javascript", 8)])
def test_a_memory_limit_below_the_runtime_is_refused(make: Make, lang: str,
                                                    minimum: int) -> None:
    with pytest.raises(ModuleRejectedError, match=r"^memory minimum of \d+ pages") as info:
        make(lang, "echo", memory_bytes=minimum * 1024 * 1024)
    assert info.value.message.endswith(f"memory limit of {minimum * 1024 * 1024} bytes")


@pytest.mark.parametrize("lang", LANGS)
def test_what_the_agent_prints_goes_to_its_log(make: Make, lang: str) -> None:
    faults, services = make(lang, "faults")
    faults.handle(message("raise"))
    errors = [text for level, text in services.logs if level == 2]
    assert any("faults: exception requested" in text for text in errors), services.logs


def test_the_wire_form_reaches_the_agent_unchanged(make: Make) -> None:
    echo, _ = make("python", "echo")
    content = {"content": "nested", "n": 1e300, "s": "\u2028\x00"}
    answer = only_send(echo.handle(message(content)))
    assert orjson.loads(answer.to_wire())["content"] == content


@pytest.mark.parametrize("lang", LANGS)
def test_every_sdk_call_works(make: Make, lang: str) -> None:
    probe, services = make(lang, PROBE)
    services.state["old"] = b"1"
    outcome = probe.handle(message("sdk"))
    report = only_send(outcome).content
    assert {k: report[k] for k in ("text", "bin", "json", "missing", "keys", "discard",
                                   "after_delete", "empty_key", "random", "clock")} == {
        "text": "välue", "bin": [0, 255], "json": {"a": [1, 2]}, "missing": None,
        "keys": ["bin", "json", "old", "text"], "discard": [True, False],
        "after_delete": ["old", "text"], "empty_key": ["invalid", "empty key"], "random": 16,
        "clock": True,
    }
    assert report.get("py_random", report.get("js_random")) is True
    assert outcome.state_writes == {"text": "välue".encode(), "bin": None, "json": None}
    assert (0, "probe: logged") in services.logs


def test_the_python_sandbox_has_no_files_network_or_environment(make: Make) -> None:
    probe, _ = make("python", PROBE)
    report = only_send(probe.handle(message("sandbox"))).content
    assert report["environ"] == {}
    assert report["read_file"] != "allowed" and report["write_file"] != "allowed"
    assert report["connect"] != "allowed"
