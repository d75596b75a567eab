"""caxton.client against a real server: the blocking and the asyncio client, answers equal
to REST's, and the server's own error classes raised."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from tests.conftest import FIXTURES, ROOT, ServerProcess

from caxton.client import (
    AgentNotFoundError,
    AsyncCaxtonClient,
    CaxtonClient,
    ConversationNotFoundError,
    DeadLetterNotFoundError,
    InvalidMessageError,
    ModuleRejectedError,
    ReplyTimeoutError,
    ServerUnreachableError,
)

ECHO = (ROOT / "examples" / "agents" / "wat" / "echo.wat").read_bytes()


@pytest.fixture(scope="module")
def client_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("client") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(client_server: ServerProcess) -> Iterator[CaxtonClient]:
    with CaxtonClient(client_server.grpc_target, token=client_server.token) as c:
        c.deploy("echo", ECHO)
        c.deploy("sink", (FIXTURES / "sink.wat").read_bytes())
        yield c


def test_agents(client_server: ServerProcess, client: CaxtonClient) -> None:
    view = client.deploy("c-echo", ECHO, version="3", fuel=1_000_000, timeout_ms=250)
    assert (view["version"], view["limits"]["fuel"], view["limits"]["timeout_ms"]) == \
           ("3", 1_000_000, 250)
    assert client.agent("c-echo") == client_server.http.get("/api/v1/agents/c-echo").json()
    assert [a["name"] for a in client.agents()] == ["c-echo", "echo", "sink"]
    assert client.stop_agent("c-echo")["state"] == "stopped"
    assert client.start_agent("c-echo")["state"] == "running"
    assert client.agent_logs("c-echo") == []
    client.remove_agent("c-echo")
    with pytest.raises(AgentNotFoundError, match="no agent named 'c-echo'"):
        client.agent("c-echo")
    with pytest.raises(ModuleRejectedError, match="not a WebAssembly module"):
        client.deploy("bad", b"nope")


def test_messages_and_conversations(client_server: ServerProcess, client: CaxtonClient) -> None:
    result = client.send_and_wait({"performative": "request", "receiver": "echo",
                                   "conversation_id": "cl-1", "X-Tenant": "acme",
                                   "content": {"n": [1, 2]}}, timeout=5)
    assert result["reply"] is not None and result["reply"]["content"] == {"n": [1, 2]}
    assert result["message"]["X-Tenant"] == "acme"
    sent = client.send({"performative": "inform", "receiver": ["sink"], "content": None})
    assert sent["reply"] is None and "duplicate" not in sent
    assert client.send(sent["message"])["duplicate"] is True
    conv = client.conversation("cl-1")
    assert conv == client_server.http.get("/api/v1/conversations/cl-1").json()
    rows = client.conversations(participant="echo")
    assert "cl-1" in [r["conversation_id"] for r in rows]
    assert client.status()["ready"]["status"] == "ready"


def test_errors_are_the_servers_classes(client: CaxtonClient) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        client.send({"performative": "shout", "receiver": "echo"})
    assert caught.value.field == "performative"
    assert caught.value.message == "field 'performative': unknown performative 'shout'"
    with pytest.raises(ReplyTimeoutError, match=r"no reply from sink within 0\.2s"):
        client.send_and_wait({"performative": "request", "receiver": "sink"}, timeout=0.2)
    with pytest.raises(ConversationNotFoundError):
        client.conversation("nope")
    with pytest.raises(ServerUnreachableError), CaxtonClient("127.0.0.1:1") as nowhere:
        nowhere.agents()


def test_stream(client: CaxtonClient) -> None:
    got: list[object] = []
    with client.stream_messages(agent="sink") as stream:
        reader = threading.Thread(target=lambda: got.extend(
            m["content"] for m, _ in zip(stream, range(5), strict=False)))
        reader.start()
        for i in range(5):
            client.send({"performative": "inform", "receiver": "sink", "content": i})
        reader.join(10)
        assert stream.dropped == 0
    assert got == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidMessageError):
        client.stream_messages(performative="shout")


def test_async_client(client_server: ServerProcess, client: CaxtonClient) -> None:
    async def main() -> None:
        async with AsyncCaxtonClient(client_server.grpc_target,
                                     token=client_server.token) as aclient:
            assert [a["name"] for a in await aclient.agents()] == \
                   [a["name"] for a in client.agents()]
            stream = await aclient.stream_messages(agent="echo", performative="inform")
            answer = await aclient.send_and_wait(
                {"performative": "request", "receiver": "echo", "content": "async"})
            async with stream:
                async for msg in stream:
                    assert answer["reply"] is not None
                    assert msg["message_id"] == answer["reply"]["message_id"]
                    break
            with pytest.raises(AgentNotFoundError):
                await aclient.agent("nobody")
            with pytest.raises(InvalidMessageError):
                await aclient.stream_messages(performative="shout")
            with pytest.raises(ReplyTimeoutError):
                await aclient.send_and_wait({"performative": "request", "receiver": "sink"},
                                            timeout=0.2)

    asyncio.run(main())


def test_dead_letters(client: CaxtonClient) -> None:
    client.deploy("c-trap", (FIXTURES / "trap.wat").read_bytes())
    failed = client.send_and_wait({"performative": "request", "receiver": "c-trap",
                                   "content": 7}, timeout=20)
    assert failed["reply"] is not None and failed["reply"]["performative"] == "failure"
    message_id = failed["message"]["message_id"]
    letters = client.dead_letters(agent="c-trap")
    assert [(d["message_id"], d["receiver"], d["message"]["content"]) for d in letters] == \
           [(message_id, "c-trap", 7)]
    assert client.dead_letter(message_id) == letters
    assert client.purge_dead_letters(message_id) == 1
    assert client.dead_letters(agent="c-trap") == []
    with pytest.raises(DeadLetterNotFoundError):
        client.replay_dead_letter(message_id)
