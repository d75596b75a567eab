"""Deploys that answer at once and run on in the server (docs/agents.md, "Slow deploys").

The component examples are large (the Python one about 19 MB) and compile for seconds to a
minute on a busy machine: longer than a client should hold a request, and once longer than the
CLI waited. Each server here has its own data directory, so nothing comes from the compile cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from tests.conftest import FIXTURES, ServerProcess

from caxton.api.grpc._generated import agents_pb2, agents_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
PY_ECHO = ROOT / "examples" / "agents" / "python" / "echo.wasm"
JS_ECHO = ROOT / "examples" / "agents" / "javascript" / "echo.wasm"
ECHO_WAT = ROOT / "examples" / "agents" / "wat" / "echo.wat"
SLOW = 600  # seconds a component deploy may take on a loaded two-core machine


@pytest.fixture(scope="module")
def deployer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for component in (PY_ECHO, JS_ECHO):
        if not component.exists():
            pytest.skip(f"{component} is not built (scripts/build-examples.sh)")
    proc = ServerProcess(tmp_path_factory.mktemp("deployments") / "data").start()
    yield proc
    proc.stop()


def _until_done(server: ServerProcess, status_url: str, limit: float = SLOW
                ) -> list[dict[str, object]]:
    seen = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        view = server.http.get(status_url).json()
        seen.append(view)
        if view["status"] != "running":
            return seen
        time.sleep(0.2)
    raise AssertionError(f"still running after {limit}s: {seen[-1]}")


def _ask(server: ServerProcess, agent: str) -> object:
    reply = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "60"}, json={
        "performative": "request", "receiver": agent, "content": {"hi": 1}}).json()["reply"]
    return reply["content"]


@pytest.mark.timeout(SLOW + 60)
def test_a_component_deploys_asynchronously(deployer: ServerProcess) -> None:
    started = time.monotonic()
    response = deployer.http.post(
        "/api/v1/deployments", params={"name": "py-echo", "version": "2.0.0"},
        content=PY_ECHO.read_bytes(), headers={"content-type": "application/wasm"})
    answered_in = time.monotonic() - started
    assert response.status_code == 202, response.text
    first = response.json()
    assert response.headers["location"] == first["status_url"] == \
        f"/api/v1/deployments/{first['id']}"
    assert first["status"] == "running" and first["module_bytes"] == PY_ECHO.stat().st_size
    # the same agent cannot be deployed twice at once
    again = deployer.http.post("/api/v1/deployments", params={"name": "py-echo"},
                               content=ECHO_WAT.read_bytes())
    assert again.status_code == 409 and again.json()["code"] == "deployment_in_progress"
    seen = _until_done(deployer, first["status_url"])
    final = seen[-1]
    assert final["status"] == "succeeded", final
    assert final["agent"]["name"] == "py-echo" and final["agent"]["version"] == "2.0.0"
    assert list(final["stage_s"]) == ["validate", "compile", "instantiate", "init", "switch"]
    # the answer came before the compile was over (the compile is most of the time)
    assert answered_in < final["elapsed_s"]
    assert _ask(deployer, "py-echo") == {"hi": 1}
    listed = deployer.http.get("/api/v1/deployments").json()["deployments"]
    assert first["id"] in [d["id"] for d in listed]


@pytest.mark.timeout(SLOW + 120)
def test_cli_with_a_tiny_timeout_says_the_deploy_goes_on(deployer: ServerProcess) -> None:
    result = deployer.cli("agents", "deploy", str(JS_ECHO), "--name", "js-echo",
                          "--timeout", "0.05s", check=False)
    assert result.returncode == 4, result.stderr
    line = result.stderr.strip()
    assert line.startswith("error: still deploying js-echo after 0.05s (stage ")
    assert "the deploy continues on the server" in line and len(result.stderr.splitlines()) == 1
    assert "`caxton agents deployment js-echo --wait`" in line
    deployment_id = line.split("(deployment ")[1].split(")")[0]
    # the server carries on; the command it named follows the deploy to its end
    follow = deployer.cli("agents", "deployment", "js-echo", "--wait", "-o", "json",
                          timeout=SLOW)
    view = json.loads(follow.stdout)
    assert view["status"] == "succeeded" and view["agent"]["name"] == "js-echo"
    assert view["id"] == deployment_id
    assert _ask(deployer, "js-echo") == {"hi": 1}
    shown = deployer.cli("agents", "deployment", deployment_id).stdout
    assert "succeeded" in shown and "compile" in shown


def test_cli_deploy_waits_and_reports_failure_stage(deployer: ServerProcess) -> None:
    ok = deployer.cli("agents", "deploy", str(ECHO_WAT), "--name", "wat-echo")
    assert ok.stdout == "deployed wat-echo 0.1.0 (running)\n"
    bad = deployer.cli("agents", "deploy", str(FIXTURES / "bad_init.wat"), "--name", "bad",
                       check=False)
    assert bad.returncode == 1
    assert bad.stderr == ("error: init returned 7; expected 0 (deployment failed at stage "
                          "init)\n")
    detached = deployer.cli("agents", "deploy", str(ECHO_WAT), "--name", "wat-2", "--no-wait",
                            "-o", "json")
    started = json.loads(detached.stdout)
    assert started["name"] == "wat-2" and started["status"] in ("running", "succeeded")
    done = deployer.cli("agents", "deployment", started["id"], "--wait", "-o", "json")
    assert json.loads(done.stdout)["status"] == "succeeded"


def test_bad_requests_fail_before_any_deployment(deployer: ServerProcess) -> None:
    before = len(deployer.http.get("/api/v1/deployments").json()["deployments"])
    for params, body in [({"name": "9lives"}, ECHO_WAT.read_bytes()),
                         ({"name": "ok", "fuel": "5"}, ECHO_WAT.read_bytes()),
                         ({"name": "ok", "version": "v" * 65}, ECHO_WAT.read_bytes()),
                         ({}, ECHO_WAT.read_bytes())]:
        response = deployer.http.post("/api/v1/deployments", params=params, content=body)
        assert response.status_code == 400, (params, response.text)
    bad_json = deployer.http.post("/api/v1/deployments", json={"name": "x",
                                                               "module_base64": "!!"})
    assert bad_json.status_code == 400
    assert len(deployer.http.get("/api/v1/deployments").json()["deployments"]) == before
    missing = deployer.http.get("/api/v1/deployments/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["code"] == "deployment_not_found"
    assert deployer.http.get("/api/v1/deployments/nope/events").status_code == 404
    # a module that fails validation is a failed deployment, with the reason
    rejected = deployer.http.post("/api/v1/deployments", params={"name": "junk"},
                                  content=(FIXTURES / "not_wasm.bin").read_bytes()).json()
    final = _until_done(deployer, rejected["status_url"], 60)[-1]
    assert final["status"] == "failed" and final["error"]["code"] == "module_rejected"
    assert deployer.http.get("/api/v1/agents/junk").status_code == 404


def test_event_stream_follows_a_deployment_to_its_end(deployer: ServerProcess) -> None:
    started = deployer.http.post("/api/v1/deployments", params={"name": "sse-echo"},
                                 content=ECHO_WAT.read_bytes()).json()
    views = []
    with deployer.http.stream("GET", f"{started['status_url']}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                views.append(json.loads(line[6:]))
    assert views[-1]["status"] == "succeeded"  # and then the stream ended by itself
    assert all(v["id"] == started["id"] for v in views)


def test_grpc_start_get_and_watch(deployer: ServerProcess) -> None:
    with deployer.channel() as channel:
        stub = agents_pb2_grpc.AgentServiceStub(channel)
        started = stub.StartDeployment(agents_pb2.DeployAgentRequest(
            name="grpc-echo", module=ECHO_WAT.read_bytes(), version="3"), timeout=60)
        assert started.status in ("running", "succeeded") and started.name == "grpc-echo"
        views = list(stub.WatchDeployment(agents_pb2.GetDeploymentRequest(id=started.id),
                                          timeout=120))
        assert views[-1].status == "succeeded" and views[-1].agent.version == "3"
        got = stub.GetDeployment(agents_pb2.GetDeploymentRequest(id=started.id), timeout=60)
        assert got.HasField("agent") and not got.HasField("error")
        with pytest.raises(grpc.RpcError) as missing:
            stub.GetDeployment(agents_pb2.GetDeploymentRequest(id="nope"), timeout=60)
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as unwatched:
            list(stub.WatchDeployment(agents_pb2.GetDeploymentRequest(id="nope"), timeout=60))
        assert unwatched.value.code() is grpc.StatusCode.NOT_FOUND
        # an agent's name stands for its latest deployment
        by_name = stub.GetDeployment(agents_pb2.GetDeploymentRequest(id="grpc-echo"), timeout=60)
        assert by_name.id == started.id
        with pytest.raises(grpc.RpcError) as bad:
            stub.StartDeployment(agents_pb2.DeployAgentRequest(name="9x", module=b"x"),
                                 timeout=60)
        assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    over_grpc = deployer.cli("agents", "deploy", str(ECHO_WAT), "--name", "grpc-cli",
                             "--transport", "grpc")
    assert over_grpc.stdout == "deployed grpc-cli 0.1.0 (running)\n"


@pytest.mark.timeout(120)
def test_shutdown_does_not_wait_for_a_compile(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_SHUTDOWN_TIMEOUT_S": "2"}).start()
    try:
        started = server.http.post("/api/v1/deployments", params={"name": "py-late"},
                                   content=PY_ECHO.read_bytes())
        assert started.status_code == 202
        time.sleep(0.5)  # compiling now (seconds to a minute)
        began = time.monotonic()
        assert server.stop() == 0
        # the 2 s grace, not the rest of the compile
        assert time.monotonic() - began < 30
    finally:
        server.stop()
    again = ServerProcess(tmp_path / "data").start()
    try:
        # the abandoned deploy left nothing behind
        assert again.http.get("/api/v1/agents/py-late").status_code == 404
    finally:
        again.stop()
