"""Send-and-wait on either event loop (config ``event_loop``): each waiting client gets its own
reply, a wait that times out or is cancelled (the client went away) leaves no inbox behind,
and the server answers REST ``wait=true`` and gRPC ``SendAndWait`` the same on both loops.

The replies reach the loop through ``api/wakeups.Wakeups`` (a batch per wake-up) and the wait
is ``service.first_result`` (a timer, not ``wait_for(shield(...))``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import orjson
import pytest
import uvloop
from grpc_status import rpc_status
from tests.conftest import FIXTURES, ROOT, ServerProcess

from caxton.api.grpc._generated import acl_pb2, messages_pb2, messages_pb2_grpc
from caxton.api.service import DeployRequest
from caxton.config import ServerConfig
from caxton.domain.ids import is_client_inbox
from caxton.errors import ReplyTimeoutError
from caxton.server import Runtime

WAT = ROOT / "examples" / "agents" / "wat"
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime.open(ServerConfig(data_dir=tmp_path_factory.mktemp("wait") / "data",
                                   durability="normal", workers=2))
    try:
        yield rt
    finally:
        rt.close()


def _inboxes(rt: Runtime) -> list[str]:
    return [name for name in rt.router._local if is_client_inbox(name)]


@pytest.fixture(scope="module", autouse=True)
def _agents(runtime: Runtime) -> None:
    async def deploy() -> None:
        await runtime.service.deploy(DeployRequest("echo", (WAT / "echo.wasm").read_bytes()))
        await runtime.service.deploy(DeployRequest("silent", (WAT / "silent.wasm").read_bytes()))

    asyncio.run(deploy())


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_64_waiting_clients_each_get_their_own_reply(runtime: Runtime, loop: str) -> None:
    async def main() -> list[object]:
        async def one(i: int) -> object:
            result = await runtime.service.send(
                {"performative": "request", "receiver": ["echo"], "content": {"n": i}},
                wait=True, timeout=60)
            assert result.reply is not None
            assert result.reply.in_reply_to == result.message.reply_key
            return result.reply.content

        return list(await asyncio.gather(*(one(i) for i in range(64 * 4))))

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        assert runner.run(main()) == [{"n": i} for i in range(64 * 4)]
    assert _inboxes(runtime) == []


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_wait_that_times_out_raises_and_leaves_no_inbox(runtime: Runtime, loop: str) -> None:
    async def main() -> None:
        with pytest.raises(ReplyTimeoutError, match=r"no reply from silent within 0\.2s"):
            await runtime.service.send({"performative": "request", "receiver": ["silent"]},
                                       wait=True, timeout=0.2)

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(main())
    assert _inboxes(runtime) == []


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_client_that_goes_away_while_waiting_leaves_nothing_behind(
        runtime: Runtime, loop: str) -> None:
    async def main() -> tuple[list[str], list[str]]:
        tasks = [asyncio.ensure_future(runtime.service.send(
            {"performative": "request", "receiver": ["silent"]}, wait=True, timeout=60))
            for _ in range(16)]
        for _ in range(200):  # until all are logged and waiting (a loaded machine is slow)
            await asyncio.sleep(0.01)
            if len(_inboxes(runtime)) == 16:
                break
        waiting = _inboxes(runtime)
        for task in tasks:
            task.cancel()  # as uvicorn and grpc.aio do when the client disconnects
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results), results
        return waiting, _inboxes(runtime)

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        waiting, left = runner.run(main())
    assert len(waiting) == 16
    assert left == []


@pytest.fixture(scope="module", params=sorted(LOOPS))
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp(request.param) / "data",
                         env={"CAXTON_EVENT_LOOP": request.param}).start()
    try:
        proc.deploy(WAT / "echo.wat", "echo")
        proc.deploy(FIXTURES / "sink.wat", "sink")
        yield proc
    finally:
        proc.stop()


def test_rest_wait_answers_the_reply_and_504_on_either_loop(server: ServerProcess) -> None:
    for i in range(20):
        answer = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                  json={"performative": "request", "receiver": "echo",
                                        "content": {"n": i}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["reply"]["content"] == {"n": i}
    late = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "0.3"},
                            json={"performative": "request", "receiver": "sink"})
    assert late.status_code == 504
    assert late.json()["code"] == "reply_timeout"


def test_grpc_send_and_wait_answers_and_deadline_exceeded_on_either_loop(
        server: ServerProcess) -> None:
    with server.channel() as channel:
        stub = messages_pb2_grpc.MessageServiceStub(channel)
        for i in range(20):
            answer = stub.SendAndWait(messages_pb2.SendAndWaitRequest(
                message=acl_pb2.AclMessage(performative="request", receiver=["echo"],
                                           content_json=orjson.dumps({"n": i}).decode()),
                timeout_s=30), timeout=60)
            assert orjson.loads(answer.reply.content_json) == {"n": i}
        with pytest.raises(grpc.RpcError) as caught:
            stub.SendAndWait(messages_pb2.SendAndWaitRequest(
                message=acl_pb2.AclMessage(performative="request", receiver=["sink"]),
                timeout_s=0.3), timeout=60)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None and status.message == "no reply from sink within 0.3s"


def test_the_server_runs_on_the_configured_loop(server: ServerProcess) -> None:
    # uvloop's extension module is loaded (mapped into the process) only when it was chosen.
    assert server.proc is not None
    maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    on_uvloop = "uvloop/loop." in maps
    assert on_uvloop == (server.env["CAXTON_EVENT_LOOP"] == "uvloop")
