"""Component agents (Python and JavaScript) in a real server: deployed with the CLI, messaging
clients, each other and core-module agents, and failing the way core modules fail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.component_support import NAMES, component, seed
from tests.conftest import ServerProcess, eventually

from caxton.sandbox.engine import artifact_name

pytestmark = pytest.mark.timeout(900)  # the first run on a machine compiles the components
SHORT = {"python": "py", "javascript": "js"}
LANGS = pytest.mark.parametrize("lang", list(SHORT.values()))
LONG = {short: lang for lang, short in SHORT.items()}


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("components") / "data"
    seed(data)  # the compiled components, so that deploying them does not compile
    proc = ServerProcess(data).start()
    try:
        proc.deploy(examples / "wat" / "echo.wat", "echo")
        proc.deploy(examples / "c" / "forwarder.wasm", "c-forwarder")
        proc.deploy(examples / "c" / "ledger.wasm", "ledger")
        for lang, short in SHORT.items():
            for name in NAMES:
                proc.deploy(component(lang, name), f"{short}-{name}")
            proc.deploy(component(lang, "faults"), f"{short}-slow", "--fuel", "100000000000",
                        "--timeout-ms", "100")
        yield proc
    finally:
        proc.stop()


def send(server: ServerProcess, body: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
    response = server.http.post("/api/v1/messages", json=body,
                                params={"wait": "true", "timeout": str(timeout)})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stats(server: ServerProcess, agent: str) -> dict[str, Any]:
    result: dict[str, Any] = server.http.get(f"/api/v1/agents/{agent}").json()
    return result


def test_components_deploy_with_the_same_command(mesh: ServerProcess, tmp_path: Path) -> None:
    out = mesh.cli("agents", "deploy", str(component("python", "echo")), "--name", "py-echo-2",
                   "--version", "2.0.0").stdout
    assert out.strip() == "deployed py-echo-2 2.0.0 (running)"
    shown = json.loads(mesh.cli("agents", "show", "js-echo", "-o", "json").stdout)
    assert shown["state"] == "running"
    assert shown["limits"]["fuel"] == 50_000_000
    listed = mesh.cli("agents", "list").stdout
    assert "py-bidder" in listed and "js-faults" in listed
    artifact = mesh.data_dir / "compiled" / artifact_name(shown_hash(mesh, "py-echo-2"))
    assert artifact.is_file()
    mesh.cli("agents", "remove", "py-echo-2")
    assert artifact.is_file()  # py-echo runs the same component: its compiled code stays


def shown_hash(server: ServerProcess, name: str) -> str:
    found: str = json.loads(server.cli("agents", "show", name, "-o", "json").stdout)[
        "module_hash"]
    return found


def test_a_module_that_breaks_the_world_is_refused(mesh: ServerProcess, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wat"
    bad.write_text('(component (core module $m) (core instance $i (instantiate $m)))')
    result = mesh.cli("agents", "deploy", str(bad), "--name", "bad", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: missing required export 'handle': a component "
                                    "agent exports the world function handle: "
                                    "func(message: string) -> result<_, string>")
    too_small = mesh.cli("agents", "deploy", str(component("python", "echo")), "--name", "tiny",
                         "--memory-bytes", str(4 * 1024 * 1024), check=False)
    assert too_small.returncode == 1
    assert "exceeds the agent's memory limit of 4194304 bytes" in too_small.stderr


@LANGS
def test_echo_answers_the_cli(mesh: ServerProcess, lang: str) -> None:
    out = json.loads(mesh.cli("messages", "send", "--to", f"{lang}-echo", "--content",
                              '{"task": "hello", "n": [1, 2.5]}', "--conversation-id",
                              f"cli-{lang}", "--wait", "--output", "json").stdout)
    sent, reply = out["message"], out["reply"]
    assert (reply["performative"], reply["sender"]) == ("inform", f"{lang}-echo")
    assert reply["receiver"] == [sent["sender"]]
    assert reply["content"] == {"task": "hello", "n": [1, 2.5]}
    assert (reply["conversation_id"], reply["in_reply_to"]) == (f"cli-{lang}", sent["message_id"])


@LANGS
def test_core_modules_and_components_talk(mesh: ServerProcess, lang: str) -> None:
    # a C agent forwards to the component, which answers the original sender directly
    result = send(mesh, {"performative": "request", "receiver": "c-forwarder",
                         "X-Forward-To": f"{lang}-echo", "content": {"via": "c"}})
    assert (result["reply"]["sender"], result["reply"]["content"]) == (f"{lang}-echo",
                                                                       {"via": "c"})
    conversation = mesh.http.get(
        f"/api/v1/conversations/{result['reply']['conversation_id']}").json()
    hops = [(m["sender"], m["receiver"]) for m in conversation["messages"]]
    client = result["message"]["sender"]
    assert hops == [(client, ["c-forwarder"]), ("c-forwarder", [f"{lang}-echo"]),
                    (f"{lang}-echo", [client])]


@LANGS
def test_a_component_and_the_wat_echo_answer_each_other(mesh: ServerProcess, lang: str) -> None:
    # reply_to sends the component's answer to the WAT echo, which answers the component, ...
    # until the platform's hop limit cuts the loop: 1,001 messages alternate between the two,
    # then the component gets the platform's failure about the 1,002nd (recorded, not delivered).
    before = {a: stats(mesh, a)["stats"]["handled"] for a in (f"{lang}-echo", "echo")}
    response = mesh.http.post("/api/v1/messages", json={
        "performative": "request", "receiver": f"{lang}-echo", "reply_to": "echo",
        "conversation_id": f"loop-{lang}", "content": {"ping": lang}})
    assert response.status_code == 202
    deadline = time.monotonic() + 60
    handled = dict(before)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = {a: stats(mesh, a)["stats"]["handled"] for a in before}
        if now == handled and now != before:
            break
        handled = now
    delta = {a: handled[a] - before[a] for a in before}
    assert delta == {f"{lang}-echo": 502, "echo": 500}
    shown = mesh.http.get(f"/api/v1/conversations/loop-{lang}").json()
    assert shown["message_count"] == 1001 + 2
    assert {m["content"]["ping"] for m in shown["messages"]} == {lang}  # the first 1,000
    assert [e["kind"] for e in shown["events"]] == ["loop"]


@LANGS
def test_bidders_trade_with_the_c_ledger(mesh: ServerProcess, lang: str) -> None:
    bidder = f"{lang}-bidder"
    rate = send(mesh, {"performative": "request", "receiver": bidder, "content": {"rate": 7}})
    assert rate["reply"]["content"] == {"rate": 7}
    won, lost = f"won-{lang}", f"lost-{lang}"
    propose = send(mesh, {"performative": "cfp", "receiver": bidder, "conversation_id": won,
                          "content": {"task": "paint", "size": 3}})["reply"]
    assert (propose["performative"], propose["content"]) == ("propose",
                                                            {"price": 21, "task": "paint"})
    done = send(mesh, {"performative": "accept-proposal", "receiver": bidder,
                       "conversation_id": won, "X-Ledger": "ledger"})["reply"]
    assert done["content"] == {"done": True, "price": 21}
    send(mesh, {"performative": "cfp", "receiver": bidder, "conversation_id": lost,
                "content": {"task": "mow", "size": 1}})
    mesh.http.post("/api/v1/messages", json={"performative": "reject-proposal",
                                             "receiver": bidder, "conversation_id": lost})
    deadline = time.monotonic() + 20
    while True:  # the ledger's confirms arrive after the bidder's replies
        figures = send(mesh, {"performative": "query-ref", "receiver": bidder})["reply"]
        if figures["content"]["confirmed"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert figures["content"] == {"cfps": 2, "won": 1, "lost": 1, "confirmed": 2, "rate": 7}
    book = send(mesh, {"performative": "query-ref", "receiver": "ledger",
                       "content": {"agent": bidder}})["reply"]
    assert book["content"] == {"agent": bidder, "won": 1, "lost": 1, "revenue": 21}


@LANGS
@pytest.mark.parametrize(("agent", "what", "kind", "attempts", "reason"), [
    ("faults", "bad-reply", "agent_error", 1, "HostError: invalid: not valid JSON"),
    ("faults", "bad-send", "agent_error", 1, "HostError: invalid: field 'receiver'"),
    ("faults", "trap", "unreachable", 3, "wasm `unreachable` instruction executed"),
    ("faults", "spin", "fuel_exhausted", 3, "all fuel consumed by WebAssembly"),
    ("slow", "spin", "timeout", 3, "interrupt"),
])
def test_failures_answer_the_sender_with_a_fipa_failure(
        mesh: ServerProcess, lang: str, agent: str, what: str, kind: str, attempts: int,
        reason: str) -> None:
    name = f"{lang}-{agent}"
    reply = send(mesh, {"performative": "request", "receiver": name, "content": what})["reply"]
    assert (reply["performative"], reply["sender"]) == ("failure", name)
    content = reply["content"]
    assert (content["error"], content["agent"], content["attempts"]) == (kind, name, attempts)
    assert reason in content["reason"]
    # the agent goes on: a trapped instance was replaced with a fresh one
    assert send(mesh, {"performative": "request", "receiver": name,
                       "content": "hello"})["reply"]["content"] == "ok"
    assert stats(mesh, name)["state"] == "running"


def test_state_and_agents_survive_a_restart(tmp_path: Path, examples: Path) -> None:
    data = tmp_path / "data"
    seed(data)
    server = ServerProcess(data).start()
    try:
        for lang, short in SHORT.items():
            server.deploy(component(lang, "bidder"), f"{short}-bidder")
            send(server, {"performative": "request", "receiver": f"{short}-bidder",
                          "content": {"rate": 12}})
    finally:
        assert server.stop() == 0
    started = time.monotonic()
    server = ServerProcess(data).start()
    try:
        assert time.monotonic() - started < 20  # restored from the compiled cache
        for short in SHORT.values():
            figures = send(server, {"performative": "query-ref",
                                    "receiver": f"{short}-bidder"})["reply"]
            assert figures["content"]["rate"] == 12
    finally:
        server.stop()


def test_messages_to_components_over_rest_and_back(mesh: ServerProcess) -> None:
    with mesh.client(timeout=30) as client:
        for i in range(20):
            lang = "py" if i % 2 else "js"
            response = client.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                   json={"performative": "request", "receiver": f"{lang}-echo",
                                         "content": {"i": i}})
            assert response.json()["reply"]["content"] == {"i": i}


# -- handle-batch: queued messages in one call --------------------------------------------------
def queue(server: ServerProcess, agent: str, contents: list[Any], conversation: str
          ) -> list[str]:
    """Stop ``agent``, send it one request per content (they wait in its mailbox), start it:
    it then finds them all queued. Returns the requests' message ids, in order."""
    http = server.http
    assert http.post(f"/api/v1/agents/{agent}/stop").status_code == 200
    ids = []
    for content in contents:
        response = http.post("/api/v1/messages", json={
            "performative": "request", "receiver": agent, "conversation_id": conversation,
            "content": content})
        assert response.status_code in (200, 202), response.text
        ids.append(response.json()["message"]["message_id"])
    assert http.post(f"/api/v1/agents/{agent}/start").status_code == 200
    return ids


def answers(server: ServerProcess, conversation: str, agent: str, count: int
            ) -> list[dict[str, Any]]:
    """The agent's messages in the conversation, in log order, once there are ``count``."""
    def mine() -> list[dict[str, Any]]:
        shown = server.http.get(f"/api/v1/conversations/{conversation}").json()
        return [m for m in shown.get("messages", []) if m["sender"] == agent]

    assert eventually(lambda: len(mine()) >= count, timeout=120), len(mine())
    time.sleep(0.5)  # nothing more should come: a duplicate would show below
    return mine()


@LANGS
def test_queued_messages_are_handled_in_batches_in_order(mesh: ServerProcess, lang: str
                                                         ) -> None:
    agent = f"{lang}-batch-echo"
    mesh.deploy(component(LONG[lang], "echo"), agent)
    ids = queue(mesh, agent, [{"i": i} for i in range(150)], f"batch-{lang}")
    replies = answers(mesh, f"batch-{lang}", agent, 150)
    assert [m["content"] for m in replies] == [{"i": i} for i in range(150)]
    assert [m["in_reply_to"] for m in replies] == ids  # each answers its own request
    assert {m["performative"] for m in replies} == {"inform"}
    figures = stats(mesh, agent)["stats"]
    assert figures["handled"] == 150
    assert figures["batched_messages"] > 0
    assert figures["batched_messages"] >= 100  # all but the first few (which size batches)


@LANGS
@pytest.mark.parametrize(("what", "kind"), [("raise", "agent_error"), ("trap", "unreachable")])
def test_a_failure_mid_batch_costs_that_message_only(mesh: ServerProcess, lang: str, what: str,
                                                     kind: str) -> None:
    """The faults agent answers "ok" to anything but its commands: each request is answered
    exactly once and in order, the failing one with one FIPA failure (a trap after the
    retries a trap gets), and the messages after it in the batch are handled after it."""
    agent = f"{lang}-batch-{what}"
    mesh.deploy(component(LONG[lang], "faults"), agent)
    contents = [f"m{i}" for i in range(30)] + [what] + [f"m{i}" for i in range(30, 60)]
    ids = queue(mesh, agent, contents, f"batch-{lang}-{what}")
    replies = answers(mesh, f"batch-{lang}-{what}", agent, 61)
    assert len(replies) == 61
    informs = [m for m in replies if m["performative"] == "inform"]
    assert [m["in_reply_to"] for m in informs] == ids[:30] + ids[31:]
    assert {m["content"] for m in informs} == {"ok"}
    failures = [m for m in replies if m["performative"] == "failure"]
    assert [m["in_reply_to"] for m in failures] == [ids[30]]
    assert failures[0]["content"]["error"] == kind
    figures = stats(mesh, agent)["stats"]
    assert figures["handled"] == 60
    assert set(figures["failures_by_kind"]) == {kind}
    assert figures["batched_messages"] > 0
