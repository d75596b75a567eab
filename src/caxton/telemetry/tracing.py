"""OpenTelemetry traces across agents, carried inside the messages themselves.

Off unless configured (``otlp_endpoint`` in the config, or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variables). When on:
- a client's send is a span (continuing the client's ``trace_context`` when it gave one);
- every agent handler run is a span, child of the message's ``trace_context``;
- every message an agent sends carries its handler span as ``trace_context`` (W3C
  traceparent), so a request through agents A -> B -> C is one trace of nested spans, across
  the HTTP MTP or other nodes as well, since the context is part of the message.
When off, each hook is a shared no-op context manager: the message path pays nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from caxton.domain.acl import AclMessage

_ENV_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_NOTHING = contextlib.nullcontext(None)


class Tracing:
    """Spans for API calls, routing and handler runs; ``enabled`` is False when off."""

    def __init__(self, endpoint: str | None = None, *, service_name: str = "caxton",
                 env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        configured = endpoint or next((env[k] for k in _ENV_ENDPOINTS if env.get(k)), None)
        self.enabled = configured is not None and env.get("OTEL_SDK_DISABLED") != "true"
        self._provider: TracerProvider | None = None
        self._propagator = TraceContextTextMapPropagator()
        if not self.enabled:
            return
        self._provider = TracerProvider(resource=Resource.create({
            "service.name": env.get("OTEL_SERVICE_NAME", service_name)}))
        # An explicit endpoint is the base URL; the exporter wants the traces path.
        exporter = (OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces") if endpoint
                    else OTLPSpanExporter())
        self._provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
        self._tracer = self._provider.get_tracer("caxton")

    def _parent(self, msg: AclMessage) -> Any:
        if not msg.trace_context:
            return None
        return self._propagator.extract(carrier=dict(msg.trace_context))

    def _carrier(self, span: trace.Span) -> dict[str, str]:
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier, context=trace.set_span_in_context(span))
        return carrier

    def send(self, msg: AclMessage) -> contextlib.AbstractContextManager[Any]:
        """Around an API send; the message leaves carrying this span as its context."""
        if not self.enabled:
            return _NOTHING
        return self._span(f"send {msg.performative.value}", msg, trace.SpanKind.SERVER,
                          stamp=True)

    def handle(self, agent: str, msg: AclMessage) -> contextlib.AbstractContextManager[Any]:
        """Around one handler run; yields the context its outgoing messages must carry."""
        if not self.enabled:
            return _NOTHING
        return self._span(f"handle {agent}", msg, trace.SpanKind.CONSUMER, agent=agent)

    @contextlib.contextmanager
    def _span(self, name: str, msg: AclMessage, kind: trace.SpanKind, *, stamp: bool = False,
              agent: str | None = None) -> Iterator[dict[str, str]]:
        attributes: dict[str, Any] = {
            "messaging.system": "caxton",
            "messaging.message.id": msg.message_id,
            "messaging.operation": msg.performative.value,
            "caxton.sender": msg.sender,
            "caxton.receivers": list(msg.receiver),
        }
        if msg.conversation_id:
            attributes["messaging.message.conversation_id"] = msg.conversation_id
        if agent:
            attributes["caxton.agent"] = agent
        with self._tracer.start_as_current_span(name, context=self._parent(msg), kind=kind,
                                                attributes=attributes) as span:
            carrier = self._carrier(span)
            if stamp:
                msg.trace_context = carrier
            yield carrier

    def route(self, msg: AclMessage, outcome: str) -> None:
        """A routing decision, as a short span under the message's context."""
        if not self.enabled:
            return
        with self._tracer.start_as_current_span(
                f"route {msg.performative.value}", context=self._parent(msg),
                kind=trace.SpanKind.INTERNAL,
                attributes={"messaging.message.id": msg.message_id,
                            "caxton.receivers": list(msg.receiver), "caxton.route": outcome}):
            pass

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()  # flushes what is batched
