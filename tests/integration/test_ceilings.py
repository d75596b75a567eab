"""What a client may ask for its agents: per-agent ceilings and the total memory budget."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from tests.conftest import ROOT, ServerProcess

from caxton.api.grpc._generated import agents_pb2, agents_pb2_grpc

ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"
MIB = 1024 * 1024


def deploy(http: httpx.Client, name: str, **limits: int) -> httpx.Response:
    return http.post("/api/v1/agents", json={
        "name": name, "module_base64": base64.b64encode(ECHO.read_bytes()).decode(),
        "limits": limits})


def grpc_failure(server: ServerProcess, request: agents_pb2.DeployAgentRequest
                 ) -> tuple[grpc.StatusCode, str, str, str | None]:
    """(code, message, ErrorInfo reason, BadRequest field) of a refused DeployAgent."""
    with server.channel() as channel, pytest.raises(grpc.RpcError) as caught:
        agents_pb2_grpc.AgentServiceStub(channel).DeployAgent(request, timeout=30)
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    reason, field = "", None
    for detail in status.details:
        info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        if detail.Unpack(info):
            reason = info.reason
        elif detail.Unpack(bad):
            field = bad.field_violations[0].field
    return caught.value.code(), caught.value.details(), reason, field  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("ceilings") / "data").start()
    yield proc
    proc.stop()


@pytest.mark.parametrize(("limit", "value", "ceiling", "setting"), [
    ("memory_bytes", 4 * 1024**3, 256 * MIB, "max_agent_memory_bytes"),
    ("fuel", 10**12, 10**11, "max_agent_fuel"),
    ("timeout_ms", 3_600_000, 60_000, "max_agent_timeout_ms"),
    ("max_message_bytes", 64 * MIB, 16 * MIB, "max_agent_message_bytes"),
    ("max_host_calls", 10**7, 10**6, "max_agent_host_calls"),
])
def test_a_limit_above_its_ceiling_is_refused_naming_the_setting(
        default_server: ServerProcess, limit: str, value: int, ceiling: int,
        setting: str) -> None:
    expected = f"{limit} {value} exceeds the server's ceiling of {ceiling} (config {setting})"
    response = deploy(default_server.http, "greedy", **{limit: value})
    assert response.status_code == 400, response.text
    assert response.json() == {"code": "limit_above_ceiling", "message": expected,
                               "field": limit}
    code, message, reason, field = grpc_failure(default_server,
                                                agents_pb2.DeployAgentRequest(
        name="greedy", module=ECHO.read_bytes(),
        limits=agents_pb2.LimitOverrides(**{limit: value})))
    assert (code, message, reason, field) == (
        grpc.StatusCode.INVALID_ARGUMENT, expected, "limit_above_ceiling", limit)
    assert default_server.http.get("/api/v1/agents/greedy").status_code == 404
    at = deploy(default_server.http, f"at-{limit}".replace("_", "-"), **{limit: ceiling})
    assert at.status_code == 201, at.text  # the ceiling itself is allowed


def test_the_cli_shows_the_refusal(default_server: ServerProcess) -> None:
    result = default_server.cli("agents", "deploy", str(ECHO), "--name", "greedy",
                                "--memory-bytes", str(4 * 1024**3), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: memory_bytes 4294967296 exceeds the server's ceiling of 268435456 "
        "(config max_agent_memory_bytes) (HTTP 400)")


def test_ceilings_are_configurable(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_MAX_AGENT_MEMORY_BYTES": str(2 * MIB), "CAXTON_DEFAULT_MEMORY_BYTES": str(MIB),
        "CAXTON_MAX_AGENT_TIMEOUT_MS": "2000"}).start()
    try:
        assert deploy(server.http, "small").status_code == 201  # the default, 1 MiB
        assert deploy(server.http, "two", memory_bytes=2 * MIB).status_code == 201
        refused = deploy(server.http, "three", memory_bytes=3 * MIB)
        assert refused.status_code == 400
        assert refused.json()["message"] == (
            "memory_bytes 3145728 exceeds the server's ceiling of 2097152 "
            "(config max_agent_memory_bytes)")
        assert deploy(server.http, "slow", timeout_ms=2001).json()["field"] == "timeout_ms"
    finally:
        server.stop()


def test_the_total_memory_budget_bounds_the_sum_of_memory_limits(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_MAX_TOTAL_MEMORY_BYTES": str(40 * MIB)}).start()  # default limit: 16 MiB
    try:
        http = server.http
        assert deploy(http, "a").status_code == 201
        assert deploy(http, "b").status_code == 201
        over = deploy(http, "c")
        assert over.status_code == 409, over.text
        assert over.json() == {"code": "memory_budget_exceeded", "message": (
            "deploying 'c' with memory_bytes 16777216 would bring the agents' memory limits to "
            "50331648 bytes in all, over the server's budget of 41943040 (config "
            "max_total_memory_bytes); remove agents or ask for less memory")}
        code, _, reason, _ = grpc_failure(server, agents_pb2.DeployAgentRequest(
            name="c", module=ECHO.read_bytes()))
        assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "memory_budget_exceeded")
        assert http.get("/api/v1/agents/c").status_code == 404
        assert deploy(http, "c", memory_bytes=8 * MIB).status_code == 201  # fits exactly
        # a new version replaces its old limit instead of adding to it
        assert deploy(http, "a", memory_bytes=16 * MIB).status_code == 201
        assert deploy(http, "a", memory_bytes=17 * MIB).status_code == 409
        assert http.delete("/api/v1/agents/b").status_code == 204  # frees its 16 MiB
        assert deploy(http, "d").status_code == 201
    finally:
        server.stop()
    # A restart restores what was deployed even if the budget shrank since.
    again = ServerProcess(tmp_path / "data", env={
        "CAXTON_MAX_TOTAL_MEMORY_BYTES": str(16 * MIB)}).start()
    try:
        agents = again.http.get("/api/v1/agents").json()["agents"]
        assert sorted((a["name"], a["state"]) for a in agents) == [
            ("a", "running"), ("c", "running"), ("d", "running")]
        assert deploy(again.http, "e", memory_bytes=MIB).status_code == 409
    finally:
        again.stop()
