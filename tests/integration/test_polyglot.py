"""Agents in every language, built by scripts/build-examples.sh, talking in one real server.

The example agents of each SDK (examples/agents/<language>/) are deployed side by side:
echo agents round-trip awkward content; Rust, Go, Zig and AssemblyScript bidders answer one
Contract Net call for proposals and report the outcome to a C ledger, which confirms back;
each SDK's fault agent shows a refused reply, a trap and fuel exhaustion turning into a FIPA
failure while the server stays healthy; and a WASI C agent's printf output reaches its log.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ROOT, ServerProcess, eventually

LANGUAGES = ["wat", "c", "c-wasi", "rust", "zig", "go", "assemblyscript"]
ECHOES = {
    "wat": "wat/echo.wasm",
    "c": "c/echo.wasm",
    "c-sdk": "c/echo_sdk.wasm",
    "rust": "rust/echo.wasm",
    "zig": "zig/echo.wasm",
    "go": "go/echo.wasm",
    "assemblyscript": "assemblyscript/echo.wasm",
}
BIDDERS = {  # agent name -> (module, rate it is given)
    "rust-bidder": ("rust/bidder.wasm", 7),
    "go-bidder": ("go/bidder.wasm", 5),
    "zig-bidder": ("zig/bidder.wasm", 9),
    "as-bidder": ("assemblyscript/bidder.wasm", 6),
}
FAULTS = {
    "c": "c/faults.wasm",
    "rust": "rust/faults.wasm",
    "zig": "zig/faults.wasm",
    "go": "go/faults.wasm",
    "assemblyscript": "assemblyscript/faults.wasm",
}
FAULT_FUEL = 5_000_000
# The SDKs whose agents export handle_batch (the optional batch export of the agent ABI), by
# their echo example's key in ECHOES.
BATCH_SDKS = ["c-sdk", "rust", "zig", "go", "assemblyscript"]


def toolchains_missing() -> str | None:
    """What scripts/install-toolchains.sh --check reports missing, or None."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install-toolchains.sh"), "--check"],
        capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable},
    )
    return None if result.returncode == 0 else result.stderr.strip()


@pytest.fixture(scope="session")
def polyglot_examples() -> Path:
    """Every language's example agents, built once per session (cached between sessions)."""
    missing = toolchains_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"toolchains missing in CI: {missing}")
        pytest.skip(f"toolchains missing (run scripts/install-toolchains.sh): {missing}")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-examples.sh"), *LANGUAGES],
        capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable},
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"
    return ROOT / "examples" / "agents"


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, polyglot_examples: Path
         ) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("polyglot") / "data").start()
    agents: list[tuple[str, str, dict[str, int]]] = [
        *((f"echo-{lang}", path, {}) for lang, path in ECHOES.items()),
        *((name, path, {}) for name, (path, _) in BIDDERS.items()),
        ("ledger", "c/ledger.wasm", {}),
        *((f"faults-{lang}", path, {"fuel": FAULT_FUEL}) for lang, path in FAULTS.items()),
        ("hello", "c-wasi/hello.wasm", {}),
    ]
    try:
        # over REST, in parallel: the server compiles modules (Go's are 2 MB) on its threads
        def deploy(agent: tuple[str, str, dict[str, int]]) -> None:
            name, path, limits = agent
            module = base64.b64encode((polyglot_examples / path).read_bytes()).decode()
            with server.client(timeout=60) as client:
                response = client.post("/api/v1/agents", json={
                    "name": name, "module_base64": module, "limits": limits})
            assert response.status_code == 201, (name, response.text)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(deploy, agents))
        yield server
    finally:
        server.stop()


def send(server: ServerProcess, body: dict[str, Any], *, wait: bool = True) -> dict[str, Any]:
    params = {"wait": "true", "timeout": "20"} if wait else {}
    response = server.http.post("/api/v1/messages", json=body, params=params)
    assert response.status_code in (200, 202), response.text
    result: dict[str, Any] = response.json()
    return result


def conversation(server: ServerProcess, conversation_id: str) -> list[dict[str, Any]]:
    response = server.http.get(f"/api/v1/conversations/{conversation_id}")
    if response.status_code == 404:
        return []
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def wait_for(server: ServerProcess, conversation_id: str, count: int, performative: str,
             timeout: float = 20) -> list[dict[str, Any]]:
    """The conversation's messages once it has `count` of `performative`."""
    deadline = time.monotonic() + timeout
    while True:
        messages = conversation(server, conversation_id)
        if sum(m["performative"] == performative for m in messages) >= count:
            return messages
        if time.monotonic() > deadline:
            shown = [(m["sender"], m["performative"], m.get("content")) for m in messages]
            raise AssertionError(f"want {count} {performative} in {conversation_id}: {shown}")
        time.sleep(0.05)


def logs(server: ServerProcess, name: str) -> list[str]:
    """The agent's log lines (what `caxton agents logs` prints)."""
    lines = server.http.get(f"/api/v1/agents/{name}/logs", params={"limit": 1000}).json()
    return [line["message"] for line in lines["logs"]]


# --- echo ---------------------------------------------------------------------------------------
TRICKY: dict[str, Any] = {
    "nested": {"a": [1, {"b": [[], {}, [None, True, False]]}], "content": {"content": "x"}},
    "quotes": {"q": 'he said "hi" \\ then \\"left\\"', "k\"ey": "\"", "end": "}"},
    "unicode": ["é ✓ 漢字 😀 \U0001f9ea", "\u0000\u0001\u001f\u007f", "\u2028\u2029", "\ud7ff"],
    "numbers": [0, -1, 2**53, -(2**63), 1.5e-300, 3.25, 1e300],
    "big": "x" * 100_000,
    "big-nested": [{"i": i, "s": "é\"\\" * 3} for i in range(2500)],
}


@pytest.mark.parametrize("case", list(TRICKY))
@pytest.mark.parametrize("lang", list(ECHOES))
def test_echo_round_trips_tricky_content(mesh: ServerProcess, lang: str, case: str) -> None:
    content = TRICKY[case]
    result = send(mesh, {"performative": "request", "receiver": f"echo-{lang}",
                         "content": content})
    reply = result["reply"]
    assert reply["performative"] == "inform", reply
    assert reply["sender"] == f"echo-{lang}"
    assert reply["in_reply_to"] == result["message"]["message_id"]
    assert reply["content"] == content


@pytest.mark.parametrize("lang", list(ECHOES))
def test_echo_with_no_content_replies_null(mesh: ServerProcess, lang: str) -> None:
    reply = send(mesh, {"performative": "query-if", "receiver": f"echo-{lang}"})["reply"]
    assert reply["performative"] == "inform"
    assert reply["content"] is None


# --- Contract Net: four languages bid, a C ledger records ------------------------------------
def test_contract_net_across_languages(mesh: ServerProcess) -> None:
    for name, (_, rate) in BIDDERS.items():
        reply = send(mesh, {"performative": "request", "receiver": name,
                            "content": {"rate": rate}})["reply"]
        assert (reply["performative"], reply["content"]) == ("inform", {"rate": rate}), name

    task = 'ship "crate" ✓ 📦 \\ 漢'
    cfp = send(mesh, {"performative": "cfp", "receiver": list(BIDDERS),
                      "conversation_id": "cnet-1", "protocol": "fipa-contract-net",
                      "content": {"task": task, "size": 12}}, wait=False)
    client = cfp["message"]["sender"]
    messages = wait_for(mesh, "cnet-1", len(BIDDERS), "propose")
    proposals = {m["sender"]: m for m in messages if m["performative"] == "propose"}
    assert set(proposals) == set(BIDDERS)
    for name, (_, rate) in BIDDERS.items():
        proposal = proposals[name]
        assert proposal["content"] == {"price": 12 * rate, "task": task}, name
        assert proposal["receiver"] == [client]
        assert proposal["protocol"] == "fipa-contract-net"  # copied by the host into replies
        assert proposal["in_reply_to"] == cfp["message"]["message_id"]

    winner = min(proposals, key=lambda n: proposals[n]["content"]["price"])
    assert winner == "go-bidder"
    losers = [n for n in BIDDERS if n != winner]
    done = send(mesh, {"performative": "accept-proposal", "receiver": winner,
                       "conversation_id": "cnet-1", "sender": client,
                       "content": {"price": 60}})["reply"]
    assert (done["performative"], done["content"]) == ("inform", {"done": True, "price": 60})
    send(mesh, {"performative": "reject-proposal", "receiver": losers,
                "conversation_id": "cnet-1", "sender": client, "content": {}}, wait=False)

    # every bidder reports to the ledger, and the ledger confirms to each of them
    messages = wait_for(mesh, "cnet-1", len(BIDDERS), "confirm")
    reports = [m for m in messages if m["receiver"] == ["ledger"]]
    assert sorted((m["sender"], m["content"]["event"]) for m in reports) == sorted(
        [(winner, "won")] + [(n, "lost") for n in losers])
    confirms = [m for m in messages if m["performative"] == "confirm"]
    assert {m["receiver"][0] for m in confirms} == set(BIDDERS)
    assert sorted(m["content"]["recorded"] for m in confirms) == [1, 2, 3, 4]

    for name in BIDDERS:
        won = name == winner
        book = send(mesh, {"performative": "query-ref", "receiver": "ledger",
                           "content": {"agent": name}})["reply"]["content"]
        assert book == {"agent": name, "won": int(won), "lost": int(not won),
                        "revenue": 60 if won else 0}
    # the confirm is handled after the ledger sends it: poll each bidder's counters briefly
    deadline = time.monotonic() + 10
    for name, (_, rate) in BIDDERS.items():
        won = name == winner
        while True:
            counters = send(mesh, {"performative": "query-ref", "receiver": name})["reply"]
            if counters["content"]["confirmed"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert counters["content"] == {"cfps": 1, "won": int(won), "lost": int(not won),
                                       "confirmed": 1, "rate": rate}, name
    total = send(mesh, {"performative": "query-ref", "receiver": "ledger"})["reply"]
    assert total["content"] == {"events": 4}
    participants = mesh.http.get("/api/v1/conversations/cnet-1").json()["participants"]
    assert set(participants) >= {client, "ledger", *BIDDERS}


@pytest.mark.parametrize("name", list(BIDDERS))
def test_bidder_refuses_and_fails_politely(mesh: ServerProcess, name: str) -> None:
    refuse = send(mesh, {"performative": "cfp", "receiver": name,
                         "content": {"task": "t", "size": "big"}})["reply"]
    assert refuse["performative"] == "refuse"
    assert refuse["content"] == {"reason": "size must be a positive integer"}
    # accepting a proposal it never made: an application-level failure, not a crashed handler
    nothing = send(mesh, {"performative": "accept-proposal", "receiver": name,
                          "conversation_id": f"none-{name}", "content": {}})["reply"]
    assert nothing["performative"] == "failure"
    assert nothing["sender"] == name
    assert nothing["content"] == {"reason": "no open bid in this conversation"}
    odd = send(mesh, {"performative": "subscribe", "receiver": name})["reply"]
    assert odd["performative"] == "not-understood"
    assert odd["content"]["reason"] == "a bidder does not take subscribe"


# --- faults: each SDK's error path ------------------------------------------------------------
def assert_healthy(server: ServerProcess, agent: str) -> None:
    assert server.http.get("/health").status_code == 200
    ok = send(server, {"performative": "request", "receiver": agent, "content": "fine?"})
    assert (ok["reply"]["performative"], ok["reply"]["content"]) == ("inform", "ok")


@pytest.mark.parametrize("lang", list(FAULTS))
def test_refused_reply_and_send_fail_the_message(mesh: ServerProcess, lang: str) -> None:
    agent = f"faults-{lang}"
    for case, reason in [("bad-reply", "not valid JSON"),
                         ("bad-send", "field 'receiver': at least one receiver is required")]:
        reply = send(mesh, {"performative": "request", "receiver": agent, "content": case})
        failure = reply["reply"]
        assert failure["performative"] == "failure", failure
        assert failure["sender"] == agent
        # the host returned -2 to the SDK; the SDK handed it back from handle
        assert failure["content"]["error"] == "agent_error"
        assert failure["content"]["reason"] == "handle returned -2"
        assert any(reason in line for line in logs(mesh, agent)), logs(mesh, agent)
        assert_healthy(mesh, agent)


@pytest.mark.parametrize("lang", list(FAULTS))
def test_trap_fails_the_message_and_the_agent_recovers(mesh: ServerProcess, lang: str) -> None:
    agent = f"faults-{lang}"
    failure = send(mesh, {"performative": "request", "receiver": agent,
                          "content": "trap"})["reply"]
    assert failure["performative"] == "failure"
    assert failure["content"]["error"] == "unreachable", failure
    # each SDK writes why before trapping (Go: the runtime prints the panic)
    assert any("trap requested" in line for line in logs(mesh, agent)), logs(mesh, agent)
    assert_healthy(mesh, agent)


@pytest.mark.parametrize("lang", list(FAULTS))
def test_fuel_exhaustion_fails_the_message(mesh: ServerProcess, lang: str) -> None:
    agent = f"faults-{lang}"
    failure = send(mesh, {"performative": "request", "receiver": agent,
                          "content": "spin"})["reply"]
    assert failure["performative"] == "failure"
    assert failure["content"]["error"] == "fuel_exhausted", failure
    assert_healthy(mesh, agent)
    shown = mesh.http.get(f"/api/v1/agents/{agent}").json()
    assert shown["state"] == "running"


# --- batches: handle_batch in the SDKs ---------------------------------------------------------
QUEUED = 240  # messages queued while the agent is stopped: plenty for several batches
BATCH_TIMEOUT = 180  # seconds for them all to be handled on a loaded two-core machine


@contextmanager
def deployed(server: ServerProcess, examples: Path, name: str, path: str,
             limits: dict[str, int]) -> Iterator[None]:
    """An agent of its own for one test (fresh stats), removed after it so that the mesh's
    agent count stays what test_every_agent_is_still_running expects."""
    module = base64.b64encode((examples / path).read_bytes()).decode()
    response = server.http.post("/api/v1/agents", json={
        "name": name, "module_base64": module, "limits": limits})
    assert response.status_code == 201, response.text
    try:
        yield
    finally:
        assert server.http.delete(f"/api/v1/agents/{name}").status_code == 204


def queue_while_stopped(server: ServerProcess, agent: str,
                        contents: list[Any], conversations: int) -> dict[str, list[str]]:
    """Stop the agent, send it the contents round-robin over `conversations` conversations,
    start it again: its mailbox holds them all at once, the case handle_batch is for. The sent
    message ids, per conversation, in sending order."""
    stopped = server.http.post(f"/api/v1/agents/{agent}/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped", stopped.text
    sent: dict[str, list[str]] = {f"{agent}-{k}": [] for k in range(conversations)}
    ids = list(sent)
    for i, content in enumerate(contents):
        conversation_id = ids[i % conversations]
        result = send(server, {"performative": "request", "receiver": agent,
                               "conversation_id": conversation_id, "content": content},
                      wait=False)
        sent[conversation_id].append(result["message"]["message_id"])
    started = server.http.post(f"/api/v1/agents/{agent}/start")
    assert started.status_code == 200 and started.json()["state"] == "running", started.text
    return sent


def answers(server: ServerProcess, agent: str, sent: dict[str, list[str]]
            ) -> dict[str, list[dict[str, Any]]]:
    """Per conversation, the agent's answers in stored order, once there is one for every
    message sent (or the timeout has passed), and after a pause that lets a duplicate show."""
    def collect() -> dict[str, list[dict[str, Any]]]:
        return {cid: [m for m in conversation(server, cid) if m["sender"] == agent]
                for cid in sent}

    def complete() -> bool:
        got = collect()
        return all(len(got[cid]) >= len(ids) for cid, ids in sent.items())

    eventually(complete, timeout=BATCH_TIMEOUT)
    time.sleep(1)
    return collect()


def stats(server: ServerProcess, agent: str) -> dict[str, Any]:
    shown = server.http.get(f"/api/v1/agents/{agent}")
    assert shown.status_code == 200, shown.text
    result: dict[str, Any] = shown.json()["stats"]
    return result


@pytest.mark.timeout(BATCH_TIMEOUT + 120)
@pytest.mark.parametrize("lang", BATCH_SDKS)
def test_queued_messages_are_handled_in_batches_in_order(
        mesh: ServerProcess, polyglot_examples: Path, lang: str) -> None:
    agent = f"batch-echo-{lang}"
    # a deadline that a slow first call on a loaded machine cannot make too short to batch in
    # (batches fit in half of it)
    with deployed(mesh, polyglot_examples, agent, ECHOES[lang], {"timeout_ms": 10_000}):
        # contents of varied, odd lengths: the frames in the batch are not aligned
        contents = [{"n": i, "pad": "é" * (i % 7), "q": '"}' * (i % 3)} for i in range(QUEUED)]
        sent = queue_while_stopped(mesh, agent, contents, conversations=4)
        got = answers(mesh, agent, sent)
        for k, (cid, ids) in enumerate(sent.items()):
            replies = got[cid]
            # one reply per message, none lost or doubled, in the order the messages were sent
            assert [m["in_reply_to"] for m in replies] == ids, cid
            assert [m["performative"] for m in replies] == ["inform"] * len(ids), cid
            assert [m["content"] for m in replies] == contents[k::4], cid
        counters = stats(mesh, agent)
        assert counters["handled"] == QUEUED and counters["failed"] == 0, counters
        assert 0 < counters["batched_messages"] <= QUEUED, counters


@pytest.mark.timeout(BATCH_TIMEOUT + 120)
@pytest.mark.parametrize("lang", list(FAULTS))
def test_a_failure_inside_a_batch_fails_only_its_message(
        mesh: ServerProcess, polyglot_examples: Path, lang: str) -> None:
    agent = f"batch-faults-{lang}"
    failing = {37: "bad-reply", 38: "bad-send", 121: "bad-reply", 190: "trap"}
    contents = [failing.get(i, f"fine {i}") for i in range(QUEUED)]
    with deployed(mesh, polyglot_examples, agent, FAULTS[lang],
                  {"fuel": FAULT_FUEL, "timeout_ms": 10_000}):
        sent = queue_while_stopped(mesh, agent, contents, conversations=2)
        got = answers(mesh, agent, sent)
        reasons: list[str] = []
        for k, (cid, ids) in enumerate(sent.items()):
            # one answer per message, none lost or doubled; in sending order, except that a
            # trapped message's failure comes after its retries, while later messages go on
            answered = [m["in_reply_to"] for m in got[cid]]
            assert sorted(answered) == sorted(ids), cid
            retried = {ids[n] for n, i in enumerate(range(k, QUEUED, 2)) if contents[i] == "trap"}
            assert [a for a in answered if a not in retried] == [
                i for i in ids if i not in retried], cid
            by_request = {m["in_reply_to"]: m for m in got[cid]}
            for i, message_id in zip(range(k, QUEUED, 2), ids, strict=True):
                what, reply = contents[i], by_request[message_id]
                if what in ("bad-reply", "bad-send"):  # the host refused it: the SDK returned -2
                    assert reply["performative"] == "failure", (i, reply)
                    reasons.append(reply["content"]["reason"])
                elif what == "trap":
                    assert reply["performative"] == "failure", (i, reply)
                    assert reply["content"]["error"] == "unreachable", (i, reply)
                else:  # before and after the failures: handled as usual, its own reply
                    assert (reply["performative"], reply["content"]) == ("inform", "ok"), (
                        i, reply)
        # each refused message failed on its own, and (at least) one inside a batch
        assert len(reasons) == 3 and set(reasons) <= {
            "handle returned -2", "handle_batch returned -2"}, reasons
        assert "handle_batch returned -2" in reasons, reasons
        counters = stats(mesh, agent)
        assert counters["handled"] == QUEUED - len(failing), counters
        assert counters["failed"] == len(failing), counters
        # the agent's own sends never escaped a failed message: bad-send's was discarded
        assert counters["sent"] == QUEUED - len(failing), counters
        assert counters["batched_messages"] > 0, counters
        assert_healthy(mesh, agent)


@pytest.mark.timeout(BATCH_TIMEOUT + 120)
def test_a_batch_sees_the_state_its_earlier_messages_wrote(
        mesh: ServerProcess, polyglot_examples: Path) -> None:
    """hello.c (C with wasi-libc) counts the messages it has seen in its state: in a batch,
    each message reads the count the one before it wrote, though none is committed yet."""
    agent = "batch-hello"
    with deployed(mesh, polyglot_examples, agent, "c-wasi/hello.wasm", {"timeout_ms": 10_000}):
        sent = queue_while_stopped(mesh, agent, list(range(QUEUED)), conversations=3)
        got = answers(mesh, agent, sent)
        for k, (cid, ids) in enumerate(sent.items()):
            assert [m["in_reply_to"] for m in got[cid]] == ids, cid
            # message i went to conversation i % 3 and was the (i + 1)-th sent
            assert [m["content"]["seen"] for m in got[cid]] == [
                j * 3 + k + 1 for j in range(len(ids))], cid
        assert stats(mesh, agent)["batched_messages"] > 0


# --- WASI ---------------------------------------------------------------------------------------
def test_wasi_c_agent_printf_reaches_the_log(mesh: ServerProcess) -> None:
    result = send(mesh, {"performative": "request", "receiver": "hello", "content": [1, 2]})
    client = result["message"]["sender"]
    assert result["reply"]["content"] == {"greeting": f"hello, {client}", "seen": 1}
    out = mesh.cli("agents", "logs", "hello").stdout
    assert f"hello.c: message 1: request from {client}, 5 bytes of content" in out
    second = send(mesh, {"performative": "inform", "receiver": "hello", "content": "x"})
    assert second["reply"]["content"]["seen"] == 2
    assert "hello.c: message 2: inform from" in mesh.cli("agents", "logs", "hello").stdout


def test_every_agent_is_still_running(mesh: ServerProcess) -> None:
    agents = {a["name"]: a for a in mesh.http.get("/api/v1/agents").json()["agents"]}
    assert len(agents) == len(ECHOES) + len(BIDDERS) + 1 + len(FAULTS) + 1
    assert {a["state"] for a in agents.values()} == {"running"}, {
        n: a["state"] for n, a in agents.items()}
    for name, agent in agents.items():
        if not name.startswith("faults-"):
            assert agent["stats"]["failed"] == 0, (name, agent["stats"])


def _leb(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _name(data: bytes, i: int) -> tuple[str, int]:
    n, i = _leb(data, i)
    return data[i:i + n].decode(), i + n


def imports_and_exports(wasm: bytes) -> tuple[set[tuple[str, str]], set[str]]:
    """A module's (module, name) imports and export names, read from its sections."""
    assert wasm[:4] == b"\0asm"
    imports: set[tuple[str, str]] = set()
    exports: set[str] = set()
    i = 8
    while i < len(wasm):
        section = wasm[i]
        size, i = _leb(wasm, i + 1)
        end, j = i + size, i
        if section in (2, 7):
            count, j = _leb(wasm, j)
            for _ in range(count):
                first, j = _name(wasm, j)
                if section == 7:
                    exports.add(first)
                    _, j = _leb(wasm, j + 1)  # kind, index
                    continue
                second, j = _name(wasm, j)
                imports.add((first, second))
                kind, j = wasm[j], j + 1
                if kind == 0:  # function: type index
                    _, j = _leb(wasm, j)
                elif kind in (1, 2):  # table (reftype + limits) or memory (limits)
                    j += kind == 1
                    flags, j = _leb(wasm, j)
                    _, j = _leb(wasm, j)
                    if flags & 1:
                        _, j = _leb(wasm, j)
                else:  # global: valtype + mutability
                    j += 2
        i = end
    return imports, exports


def test_modules_import_only_what_the_host_offers(polyglot_examples: Path) -> None:
    paths = [*ECHOES.values(), *(p for p, _ in BIDDERS.values()), *FAULTS.values(),
             "c/ledger.wasm", "c-wasi/hello.wasm"]
    for rel in paths:
        imports, exports = imports_and_exports((polyglot_examples / rel).read_bytes())
        assert {m for m, _ in imports} <= {"caxton", "wasi_snapshot_preview1"}, (rel, imports)
        assert {"memory", "alloc", "handle"} <= exports, (rel, exports)
        if rel not in ("wat/echo.wasm", "c/echo.wasm"):  # the SDKs add these two
            assert {"dealloc", "caxton_abi_version"} <= exports, (rel, exports)
        sdk_built = rel.startswith(("c/", "c-wasi/", "zig/", "rust/", "go/", "assemblyscript/"))
        if sdk_built and rel != "c/echo.wasm":  # the SDKs add it (c/echo.c is raw ABI)
            assert "handle_batch" in exports, (rel, exports)
        wasi = any(m == "wasi_snapshot_preview1" for m, _ in imports)
        assert wasi == rel.startswith(("go/", "c-wasi/")), rel
        if wasi:
            assert "_initialize" in exports, rel
