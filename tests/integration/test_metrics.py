"""/metrics moves with traffic and passes promtool's checks."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import FIXTURES, ServerProcess


def _scrape(server: ServerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_and_histograms_move_with_traffic(server: ServerProcess) -> None:
    server.deploy(FIXTURES / "counter.wat", "counter")
    server.deploy(FIXTURES / "trap.wat", "trapper")
    before = _scrape(server)
    for _ in range(5):
        server.http.post("/api/v1/messages", params={"wait": "true"},
                         json={"performative": "request", "receiver": "counter"})
    server.http.post("/api/v1/messages", params={"wait": "true"},
                     json={"performative": "query-ref", "receiver": "trapper"})
    after = _scrape(server)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("caxton_messages_routed_total", performative="request") == 5
    assert moved("caxton_messages_routed_total", performative="inform") == 5
    assert moved("caxton_messages_processed_total", performative="request", outcome="ok") == 5
    assert moved("caxton_messages_processed_total", performative="query-ref",
                 outcome="retried") == 2
    assert moved("caxton_messages_processed_total", performative="query-ref",
                 outcome="dead_lettered") == 1
    assert moved("caxton_sandbox_traps_total", kind="unreachable") == 3
    assert moved("caxton_message_processing_duration_seconds_count", outcome="ok") == 5
    assert moved("caxton_api_requests_total", method="POST", route="/api/v1/messages",
                 status="200") == 6
    assert moved("caxton_fuel_consumed_total") > 0
    assert moved("caxton_store_statements_total") > 0
    assert _value(after, "caxton_agents", state="running") == 2
    assert _value(after, "caxton_mailbox_depth_messages", agent="counter") == 0
    assert _value(after, "caxton_agent_messages_handled_total", agent="counter") == 5
    assert _value(after, "caxton_messages_dead_lettered_total") == 1
    assert _value(after, "caxton_agent_memory_bytes", agent="counter") == 65536


def test_conversation_and_deployment_metrics(server: ServerProcess) -> None:
    before = _scrape(server)
    server.deploy(FIXTURES / "counter.wat", "conv-counter")
    server.deploy(FIXTURES / "counter.wat", "conv-counter", "--version", "0.2.0")
    server.deploy(FIXTURES / "sink.wat", "conv-sink")
    rejected = server.cli("agents", "deploy", str(FIXTURES / "not_wasm.bin"), "--name", "bad",
                          check=False)
    assert rejected.returncode != 0
    request = {"performative": "request", "protocol": "fipa-request"}
    server.http.post("/api/v1/messages", params={"wait": "true"},
                     json={**request, "receiver": "conv-counter"})  # answered: done
    server.http.post("/api/v1/messages", json={**request, "receiver": "conv-sink"})  # stays open
    server.http.post("/api/v1/messages", params={"wait": "true"},  # out of protocol
                     json={**request, "performative": "inform", "receiver": "conv-sink"})
    after = _scrape(server)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("caxton_deployments_total", outcome="deployed") == 2
    assert moved("caxton_deployments_total", outcome="replaced") == 1
    assert moved("caxton_deployments_total", outcome="rejected") == 1
    assert moved("caxton_conversations_ended_total", protocol="fipa-request", status="done") == 1
    assert moved("caxton_conversations_open", protocol="fipa-request") == 1
    assert moved("caxton_conversation_violations_total") == 1


def test_promtool_accepts_the_exposition(server: ServerProcess, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by scripts/install-test-tools.sh"
    server.deploy(FIXTURES / "counter.wat", "counter")
    server.http.post("/api/v1/messages", params={"wait": "true"},
                     json={"performative": "request", "receiver": "counter"})
    exposition = server.http.get("/metrics").text
    result = subprocess.run([promtool, "check", "metrics"], input=exposition, text=True,
                            capture_output=True, check=False, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_separate_metrics_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ServerProcess(tmp_path / "data", "--metrics-port", str(port)).start()
    try:
        server.deploy(FIXTURES / "counter.wat", "counter")
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert 'caxton_agents{state="running"} 1.0' in scraped.text
    finally:
        assert server.stop() == 0
