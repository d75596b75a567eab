"""A request through agents A -> B -> C is one trace of nested spans at a real OTLP receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.conftest import FIXTURES, ServerProcess


class OtlpReceiver:
    """An OTLP/HTTP trace endpoint on 127.0.0.1 that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(scope_spans.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    otlp = OtlpReceiver()
    yield otlp
    otlp.server.shutdown()
    otlp.server.server_close()


def test_three_agent_chain_is_one_trace(tmp_path: Path, examples: Path,
                                        receiver: OtlpReceiver) -> None:
    server = ServerProcess(tmp_path / "data",
                           env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}).start()
    try:
        server.deploy(examples / "c" / "forwarder.wasm", "a")
        server.deploy(examples / "c" / "forwarder.wasm", "b")  # keeps reply_to: echo answers us
        server.deploy(examples / "wat" / "echo.wat", "echo")
        response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                    json={"performative": "request", "receiver": "a",
                                          "X-Forward-To": "b", "content": "traced"})
        assert response.status_code == 200, response.text
        reply = response.json()["reply"]
        assert reply["sender"] == "echo" and reply["content"] == "traced"
        sent = response.json()["message"]
        traceparent = sent["trace_context"]["traceparent"]
        trace_id = traceparent.split("-")[1]
        deadline = time.monotonic() + 10
        wanted = {"send request", "handle a", "handle b", "handle echo"}
        while time.monotonic() < deadline:
            names = {s.name for s in receiver.spans}
            if wanted <= names:
                break
            time.sleep(0.1)
    finally:
        server.stop()
    spans = {s.name: s for s in receiver.spans if s.trace_id.hex() == trace_id}
    assert wanted <= set(spans), sorted(spans)
    send, a, b, echo = (spans[n] for n in ("send request", "handle a", "handle b", "handle echo"))
    assert send.parent_span_id == b""  # the client started the trace here
    assert a.parent_span_id == send.span_id
    assert b.parent_span_id == a.span_id
    assert echo.parent_span_id == b.span_id
    assert {s.name for s in spans.values() if s.name.startswith("route ")} >= {"route request"}
    # the echo's reply continues the trace too
    assert reply["trace_context"]["traceparent"].split("-")[1] == trace_id


def test_client_trace_context_is_continued(tmp_path: Path, receiver: OtlpReceiver) -> None:
    server = ServerProcess(tmp_path / "data",
                           env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}).start()
    client_trace = "0af7651916cd43dd8448eb211c80319c"
    try:
        server.deploy(FIXTURES / "counter.wat", "counter")
        server.http.post("/api/v1/messages", params={"wait": "true"}, json={
            "performative": "request", "receiver": "counter",
            "trace_context": {"traceparent": f"00-{client_trace}-b7ad6b7169203331-01"}})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                s.name == "handle counter" for s in receiver.spans):
            time.sleep(0.1)
    finally:
        server.stop()
    handle = next(s for s in receiver.spans if s.name == "handle counter")
    assert handle.trace_id.hex() == client_trace


def test_log_lines_carry_trace_and_conversation_ids(tmp_path: Path,
                                                   receiver: OtlpReceiver) -> None:
    server = ServerProcess(tmp_path / "data",
                           env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                                "CAXTON_MAX_ATTEMPTS": "1"}).start()
    try:
        server.deploy(FIXTURES / "trap.wat", "trapper")
        sent = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
            "performative": "request", "receiver": "trapper",
            "conversation_id": "logged"}).json()["message"]
    finally:
        server.stop()
    trace_id = sent["trace_context"]["traceparent"].split("-")[1]
    events = [json.loads(line) for line in server.stderr().splitlines()
              if line.startswith("{")]
    failed = next(e for e in events if e.get("event") == "message failed")
    assert failed["trace_id"] == trace_id
    assert len(failed["span_id"]) == 16
    assert failed["conversation_id"] == "logged"
    assert failed["agent"] == "trapper"
