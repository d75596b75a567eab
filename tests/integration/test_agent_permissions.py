"""Agent permissions through the real server: declared at deploy (REST, gRPC, the CLI, the
Python client), shown, kept across a restart, replaced by a redeploy and enforced by the host
on real WASM: a receiver outside the list, a rate, a forbidden import; bad declarations are
refused naming the field. docs/agent-permissions.md describes the behaviour.

``relay`` (tests/fixtures/relay.wat) sends the message it is given as content; ``spray``
sends N messages to ``sink``; ``sink`` takes everything and never answers."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from tests.conftest import CAXTON, FIXTURES, ServerProcess

from caxton.api.grpc._generated import agents_pb2, agents_pb2_grpc
from caxton.client import CaxtonClient, InvalidPermissionsError
from caxton.errors import HostFunctionNotPermittedError

RELAY = FIXTURES / "relay.wat"
SEND_ONLY = {"host_functions": ["send"], "messaging": ["echo"]}
DENIALS = "caxton_agent_permission_denials_total"


def deploy(server: ServerProcess, name: str, fixture: Path, permissions: Any = None,
           expect: int = 201) -> dict[str, Any]:
    """Deploy over REST with a JSON body (no ``permissions`` member when None)."""
    body: dict[str, Any] = {"name": name,
                            "module_base64": base64.b64encode(fixture.read_bytes()).decode()}
    if permissions is not None:
        body["permissions"] = permissions
    response = server.http.post("/api/v1/agents", json=body)
    assert response.status_code == expect, response.text
    return dict(response.json())


def ask(server: ServerProcess, agent: str, content: Any) -> None:
    response = server.http.post("/api/v1/messages", json={
        "performative": "request", "receiver": agent, "content": content})
    assert response.status_code == 202, response.text


def inform(receiver: str, conversation_id: str) -> dict[str, Any]:
    return {"performative": "inform", "receiver": [receiver], "conversation_id": conversation_id,
            "content": 1}


def until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stats(server: ServerProcess, agent: str) -> dict[str, Any]:
    return dict(server.http.get(f"/api/v1/agents/{agent}").json()["stats"])


def violations(server: ServerProcess) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = server.http.get(
        "/api/v1/audit", params={"action": "agentPermission"}).json()["events"]
    return rows


def denials(server: ServerProcess) -> dict[tuple[str, str], float]:
    found = {}
    for line in server.http.get("/metrics").text.splitlines():
        if line.startswith(DENIALS + "{"):
            labels, value = line[len(DENIALS) + 1:].split("} ")
            pairs = dict(part.split("=") for part in labels.split(","))
            found[(pairs["agent"].strip('"'), pairs["kind"].strip('"'))] = float(value)
    return found


def refusal(server: ServerProcess, conversation_id: str) -> tuple[dict[str, Any], dict[str, Any],
                                                                  dict[str, Any]]:
    """(the refused message, the platform's failure, the conversation) once both are logged."""
    def logged() -> dict[str, Any] | None:
        response = server.http.get(f"/api/v1/conversations/{conversation_id}")
        if response.status_code != 200 or len(response.json()["messages"]) < 2:
            return None
        return dict(response.json())

    conversation = until(logged, f"the refusal in conversation {conversation_id}")
    refused, failure = conversation["messages"]
    return refused, failure, conversation


@pytest.fixture
def relay_server(server: ServerProcess) -> ServerProcess:
    deploy(server, "sink", FIXTURES / "sink.wat")
    return server


def test_a_send_outside_the_list_is_refused_in_its_conversation_then_allowed_when_listed(
        relay_server: ServerProcess) -> None:
    server = relay_server
    view = deploy(server, "relay", RELAY, SEND_ONLY)
    assert view["permissions"] == {"host_functions": ["send"], "messaging": ["echo"],
                                   "rate": None, "max_receivers": None, "tools": []}
    ask(server, "relay", inform("sink", "perm-1"))
    refused, failure, conversation = refusal(server, "perm-1")
    assert (refused["sender"], refused["receiver"]) == ("relay", ["sink"])
    assert failure["performative"] == "failure"
    assert (failure["sender"], failure["receiver"]) == ("ams", ["relay"])
    assert failure["in_reply_to"] == refused["message_id"]
    content = failure["content"]
    assert content["error"] == "permission_denied" and content["permission"] == "messaging"
    assert content["receiver"] == ["sink"] and content["message_id"] == refused["message_id"]
    assert "may not message 'sink'" in content["reason"]
    assert [e["kind"] for e in conversation["events"]] == ["permission"]
    until(lambda: stats(server, "relay")["handled"] == 2, "relay to handle the failure")
    time.sleep(0.5)  # time enough for a delivery that should not happen
    assert stats(server, "sink")["handled"] == 0
    assert stats(server, "relay")["sent"] == 0
    assert denials(server) == {("relay", "messaging"): 1.0}
    logs = server.http.get("/api/v1/agents/relay/logs").json()["logs"]
    assert any("send refused" in line["message"] for line in logs)
    until(lambda: bool(violations(server)), "the violation in the audit trail")
    [row] = violations(server)
    assert (row["actor"], row["target"], row["outcome"]) == ("agent:relay", "relay", "violation")
    assert row["detail"].startswith("messaging:") and "sink" in row["detail"]

    # A new version's permissions replace the old ones: now sink is allowed.
    view = deploy(server, "relay", RELAY, {"host_functions": ["send"], "messaging": ["sink"]})
    assert view["permissions"]["messaging"] == ["sink"]
    ask(server, "relay", inform("sink", "perm-2"))
    until(lambda: stats(server, "sink")["handled"] == 1, "sink to get the permitted message")
    # And a version that declares none may do everything again, as before permissions.
    assert deploy(server, "relay", RELAY)["permissions"] is None
    ask(server, "relay", inform("nobody-listed", "perm-3"))
    refused, failure, _ = refusal(server, "perm-3")
    assert failure["content"]["error"] == "undeliverable"  # routed, and nobody is there
    assert denials(server) == {("relay", "messaging"): 1.0}


def test_over_its_rate_the_excess_sends_are_answered_with_failures(
        relay_server: ServerProcess) -> None:
    server = relay_server
    deploy(server, "spray", FIXTURES / "spray.wat", {
        "host_functions": ["send"], "messaging": ["sink"],
        "rate": {"messages_per_s": 0.001, "burst": 5}})  # 5 now, then one per 1000 s
    ask(server, "spray", 20)
    # spray handles its request, then one platform failure for each of the 15 excess sends.
    until(lambda: stats(server, "spray")["handled"] == 16, "spray to get 15 failures")
    until(lambda: stats(server, "sink")["handled"] == 5, "sink to get the 5 allowed")
    ask(server, "spray", 20)
    until(lambda: stats(server, "spray")["handled"] == 37, "spray to get 20 more failures")
    time.sleep(0.5)
    assert stats(server, "sink")["handled"] == 5  # bounded: nothing past the burst
    assert stats(server, "spray")["sent"] == 5
    assert denials(server) == {("spray", "rate"): 35.0}
    logs = server.http.get("/api/v1/agents/spray/logs", params={"limit": 1000}).json()["logs"]
    refused = [line["message"] for line in logs if "send refused" in line["message"]]
    assert len(refused) == 35 and "permissions.rate" in refused[0]


def test_a_module_importing_a_host_function_it_may_not_call_is_refused_at_deploy(
        server: ServerProcess) -> None:
    body = deploy(server, "relay", RELAY, {"host_functions": ["log", "state"]}, expect=422)
    assert body["code"] == "host_function_not_permitted"
    assert body["message"] == (
        "import 'caxton.send' is not permitted: the agent's permissions allow the host "
        "functions log, state_get, state_put, state_delete, state_list "
        "(permissions.host_functions)")
    assert server.http.get("/api/v1/agents/relay").status_code == 404
    cli = server.cli("agents", "deploy", str(RELAY), "--name", "relay", "--permissions",
                     '{"host_functions": []}', check=False)
    assert cli.returncode == 1
    assert cli.stderr.startswith("error: import 'caxton.send' is not permitted: the agent's "
                                 "permissions allow the host functions (none)")
    with CaxtonClient(server.grpc_target, token=server.token) as client, \
            pytest.raises(HostFunctionNotPermittedError, match=r"'caxton\.send' is not permitted"):
        client.deploy("relay", RELAY.read_bytes(), permissions={"host_functions": ["reply"]})
    assert denials(server) == {("relay", "host_function"): 3.0}
    # Listing it is enough (and "*" lists them all).
    assert deploy(server, "relay", RELAY, {"host_functions": ["*"]})["permissions"][
        "host_functions"][0] == "send"


def test_permissions_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        deploy(first, "sink", FIXTURES / "sink.wat")
        declared = deploy(first, "relay", RELAY, {**SEND_ONLY, "tools": ["search"],
                                                  "max_receivers": 2,
                                                  "rate": {"messages_per_s": 50}})
    finally:
        first.stop()
    second = ServerProcess(data).start()
    try:
        shown = second.http.get("/api/v1/agents/relay").json()
        assert shown["permissions"] == declared["permissions"] == {
            "host_functions": ["send"], "messaging": ["echo"],
            "rate": {"messages_per_s": 50.0, "burst": 50}, "max_receivers": 2,
            "tools": ["search"]}
        assert second.http.get("/api/v1/agents/sink").json()["permissions"] is None
        ask(second, "relay", inform("sink", "after-restart"))  # still enforced
        _, failure, _ = refusal(second, "after-restart")
        assert failure["content"]["error"] == "permission_denied"
        assert stats(second, "sink")["handled"] == 0
    finally:
        second.stop()


def test_unreadable_stored_permissions_fail_closed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        deploy(first, "relay", RELAY, SEND_ONLY)
    finally:
        first.stop()
    conn = sqlite3.connect(data / "caxton.db")
    conn.execute("""UPDATE agents SET permissions = '{"messaging": 5}' WHERE name = 'relay'""")
    conn.commit()
    conn.close()
    check = subprocess.run([CAXTON, "server", "check", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "agents: agent 'relay': permissions are invalid" \
        in check.stdout
    second = ServerProcess(data).start()
    try:
        shown = second.http.get("/api/v1/agents/relay").json()
        assert shown["state"] == "failed" and "permissions are invalid" in \
            shown["stats"]["last_error"]
        # Not with guessed permissions (everything, or the defaults): not at all.
        start = second.http.post("/api/v1/agents/relay/start")
        assert start.status_code == 422
        assert "its stored record is unreadable" in start.json()["message"]
        assert deploy(second, "relay", RELAY, SEND_ONLY)["state"] == "running"  # the way out
    finally:
        second.stop()


@pytest.mark.parametrize(("permissions", "code", "field", "words"), [
    ({"messaging": ["echo", "a*b"]}, "invalid_permissions", "permissions.messaging[1]",
     "'a*b' is not a receiver pattern"),
    ({"rate": {"messages_per_s": 1, "burst": 0}}, "invalid_request", "permissions.rate.burst",
     "must be an integer from 1 to 1000000"),
    ({"host_functions": ["exec"]}, "invalid_request", "permissions.host_functions[0]",
     "invalid enum value 'exec'"),
    ({"messaging": "echo"}, "invalid_request", "permissions.messaging", "must be a list"),
    ({"sandbox": "off"}, "invalid_request", "permissions.sandbox", "unknown field"),
    (["send"], "invalid_request", "permissions", "must be an object"),
])
def test_a_bad_declaration_over_rest_is_400_naming_the_field(
        server: ServerProcess, permissions: Any, code: str, field: str, words: str) -> None:
    body = deploy(server, "relay", RELAY, permissions, expect=400)
    assert (body["code"], body["field"]) == (code, field)
    assert words in body["message"].lower()
    assert server.http.get("/api/v1/agents/relay").status_code == 404


def test_a_bad_declaration_in_the_raw_form_and_to_a_deployment_is_400(
        server: ServerProcess) -> None:
    module = RELAY.read_bytes()
    headers = {"content-type": "application/wasm"}
    for path in ("/api/v1/agents", "/api/v1/deployments"):
        not_json = server.http.post(path, content=module, headers=headers,
                                    params={"name": "relay", "permissions": "{messaging"})
        assert not_json.status_code == 400
        assert not_json.json()["field"] == "permissions"
        assert not_json.json()["code"] == "invalid_parameter"
        bad = server.http.post(path, content=module, headers=headers, params={
            "name": "relay", "permissions": '{"messaging": ["@jade"]}'})
        assert bad.status_code == 400
        assert (bad.json()["code"], bad.json()["field"]) == ("invalid_permissions",
                                                             "permissions.messaging[0]")
    good = server.http.post("/api/v1/agents", content=module, headers=headers, params={
        "name": "relay", "permissions": '{"host_functions": ["send"], "messaging": ["*"]}'})
    assert good.status_code == 201 and good.json()["permissions"]["messaging"] == ["*"]


def test_a_bad_declaration_over_grpc_is_invalid_argument_naming_the_field(
        server: ServerProcess) -> None:
    with server.channel() as channel:
        stub = agents_pb2_grpc.AgentServiceStub(channel)
        request = agents_pb2.DeployAgentRequest(
            name="relay", module=RELAY.read_bytes(),
            permissions=agents_pb2.AgentPermissions(host_functions=["send", "exec"]))
        with pytest.raises(grpc.RpcError) as caught:
            stub.DeployAgent(request, timeout=60)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        status = rpc_status.from_call(caught.value)
        assert status is not None
        bad = error_details_pb2.BadRequest()
        assert any(detail.Unpack(bad) for detail in status.details)
        assert bad.field_violations[0].field == "permissions.host_functions[1]"
        assert "unknown host function 'exec'" in bad.field_violations[0].description
    with CaxtonClient(server.grpc_target, token=server.token) as client:
        with pytest.raises(InvalidPermissionsError) as refused:
            client.deploy("relay", RELAY.read_bytes(),
                          permissions={"rate": {"messages_per_s": -1}})
        assert refused.value.field == "permissions.rate.messages_per_s"
        with pytest.raises(InvalidPermissionsError) as unsent:  # caught before it is sent
            client.deploy("relay", RELAY.read_bytes(), permissions={"messaging": "echo"})
        assert unsent.value.field == "permissions.messaging"
        view = client.deploy("relay", RELAY.read_bytes(),
                             permissions={"host_functions": ["send"], "messaging": ["sink"],
                                          "rate": {"messages_per_s": 2}})
        assert view["permissions"] == {"host_functions": ["send"], "messaging": ["sink"],
                                       "rate": {"messages_per_s": 2.0, "burst": 2},
                                       "max_receivers": None, "tools": []}
        assert client.agent("relay")["permissions"] == server.http.get(
            "/api/v1/agents/relay").json()["permissions"] == view["permissions"]


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_the_cli_declares_shows_and_refuses_permissions(
        server: ServerProcess, tmp_path: Path, transport: str) -> None:
    via = ("--transport", transport)
    bad = server.cli("agents", "deploy", str(RELAY), "--name", "relay", *via,
                     "--permissions", '{"messaging": ["a*b"]}', check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: field 'permissions.messaging[0]': 'a*b' is not a "
                                 "receiver pattern")
    for text, words in (('{"messaging": [', "--permissions is not valid JSON"),
                        ("[1]", "cannot read the permissions file [1]"),
                        (str(tmp_path / "missing.json"), "cannot read the permissions file")):
        usage = server.cli("agents", "deploy", str(RELAY), "--name", "relay", *via,
                           "--permissions", text, check=False)
        assert usage.returncode == 2 and usage.stderr.startswith(f"error: {words}"), usage.stderr
    declared = tmp_path / "relay-permissions.json"
    declared.write_text('{"host_functions": ["send", "log"], "messaging": ["sink", "*@jade"],'
                        ' "rate": {"messages_per_s": 10, "burst": 20}, "tools": ["search"]}')
    server.cli("agents", "deploy", str(RELAY), "--name", "relay", *via,
               "--permissions", str(declared), "--max-sends-per-message", "7")
    shown = server.cli("agents", "show", "relay", *via).stdout
    for key, value in (("host functions", "send, log"), ("messaging", "sink, *@jade"),
                       ("rate", "10/s, burst 20"), ("max receivers", "-"), ("tools", "search")):
        assert re.search(rf"^{key} +{re.escape(value)}$", shown, re.M), (key, shown)
    server.cli("agents", "deploy", str(FIXTURES / "sink.wat"), "--name", "sink", *via)
    assert re.search(r"^permissions +none declared: everything allowed$",
                     server.cli("agents", "show", "sink", *via).stdout, re.M)
    listed = json.loads(server.cli("agents", "show", "relay", *via, "-o", "json").stdout)
    assert listed["permissions"]["messaging"] == ["sink", "*@jade"]
    assert listed["permissions"]["rate"] == {"messages_per_s": 10.0, "burst": 20}
    assert listed["limits"]["max_sends_per_message"] == 7  # over gRPC too
