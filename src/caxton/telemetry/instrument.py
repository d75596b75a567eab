"""Connects a running server's parts to its Metrics: one place, so no part imports telemetry."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import start_http_server
from prometheus_client.core import Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caxton.api.mtp import Mtp
from caxton.api.rest.metrics_middleware import MetricsMiddleware
from caxton.domain.cascade import FANOUT, LOOP
from caxton.router.local import Router
from caxton.runtime.cascades import CascadeGuard
from caxton.runtime.conversations import ConversationManager
from caxton.runtime.host import AgentHost
from caxton.store.store import Store
from caxton.telemetry.metrics import Metrics, counter, gauge
from caxton.telemetry.metrics_tls import serve_metrics_tls

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
log = structlog.get_logger("caxton.telemetry")


def instrument(metrics: Metrics, *, host: AgentHost, router: Router, store: Store,
               guard: CascadeGuard) -> None:
    """Hook the message path to ``metrics`` and add the scrape-time figures."""
    router.on_routed = metrics.routed_batch
    host.delivery.on_processed = metrics.processed
    host.delivery.on_turn = metrics.processed_turn
    store.writer.on_batch = metrics.committed
    host.events.add_listener(lambda event: _count_event(metrics, event.kind.value))
    host.on_rejected = lambda: metrics.deployment("rejected")

    def collect() -> Iterator[Metric]:
        cells = host.all()
        states = gauge("caxton_agents", "Agents by lifecycle state.", ["state"])
        by_state: dict[str, int] = {}
        for cell in cells:
            by_state[cell.state.value] = by_state.get(cell.state.value, 0) + 1
        for state, count in sorted(by_state.items()):
            states.add_metric([state], count)
        yield states
        asleep = gauge("caxton_agents_hibernated", "Agents whose sandbox is dropped while idle "
                       "(hibernate_idle_s); each is rebuilt for its next message.")
        asleep.add_metric([], sum(1 for cell in cells
                                  if cell.hibernated and cell.instance is None))
        yield asleep
        sleep = host.hibernation.stats
        wakes = counter("caxton_agent_wakes", "Hibernated agents rebuilt for a message.")
        wakes.add_metric([], sleep.woken)
        yield wakes
        wake_failures = counter("caxton_agent_wake_failures", "Rebuilds of hibernated agents "
                                "that failed (the agent was marked failed).")
        wake_failures.add_metric([], sleep.wake_failures)
        yield wake_failures
        depth = gauge("caxton_mailbox_depth_messages", "Messages waiting per agent.", ["agent"])
        memory = gauge("caxton_agent_memory_bytes", "Linear memory size per agent.", ["agent"])
        fuel = counter("caxton_agent_fuel_consumed", "Fuel consumed per agent.", ["agent"])
        handled = counter("caxton_agent_messages_handled", "Messages handled per agent.",
                          ["agent"])
        failed = counter("caxton_agent_messages_failed",
                         "Messages that failed every attempt, per agent.", ["agent"])
        refused = counter("caxton_agent_sends_refused", "Sends and replies refused for passing"
                          " the agent's max_sends_per_message, per agent.", ["agent"])
        for cell in cells:
            depth.add_metric([cell.name], cell.mailbox_depth)
            memory.add_metric([cell.name], cell.memory_bytes())
            fuel.add_metric([cell.name], cell.stats.fuel_used)
            handled.add_metric([cell.name], cell.stats.handled)
            failed.add_metric([cell.name], cell.stats.failed)
            refused.add_metric([cell.name], cell.stats.sends_refused)
        yield from (depth, memory, fuel, handled, failed, refused)
        denials = counter("caxton_agent_permission_denials", "What agents tried that their"
                          " permissions deny, by agent and kind (messaging, rate, fanout,"
                          " host_function).", ["agent", "kind"])
        for (agent, kind), count in sorted(host.denial_counts().items()):
            denials.add_metric([agent, kind], count)
        yield denials
        yield from _cascade_metrics(guard)
        backlog = gauge("caxton_store_write_backlog", "Writes queued for the group-commit writer.")
        backlog.add_metric([], store.backlog)
        yield backlog
        delivery = host.delivery
        for name, doc, value in (
            ("caxton_messages_bounced", "Messages answered with a platform failure.",
             router.bounced),
            ("caxton_messages_retried", "Failed handler runs that were retried.",
             delivery.retried),
            ("caxton_messages_dead_lettered", "Messages moved to the dead-letter queue.",
             delivery.dead_lettered),
            ("caxton_messages_redelivered", "Messages delivered again after a restart.",
             delivery.redelivered),
        ):
            family = counter(name, doc)
            family.add_metric([], value)
            yield family

    metrics.watch(collect)


def _cascade_metrics(guard: CascadeGuard) -> Iterator[Metric]:
    cuts = counter("caxton_cascades_cut", "Message cascades cut, by reason (loop: max_hops"
                   " passed; fanout: max_cascade_in_flight reached).", ["reason"])
    dropped = counter("caxton_messages_cut", "Messages not delivered because their cascade"
                      " was cut, by reason (the one that passed the limit included).",
                      ["reason"])
    for reason in (LOOP, FANOUT):  # both always present, so a rate() sees the first cut
        cuts.add_metric([reason], guard.cuts[reason])
        dropped.add_metric([reason], guard.dropped[reason])
    live = gauge("caxton_cascades_in_flight", "Message cascades with messages in flight.")
    live.add_metric([], guard.in_flight)
    yield from (cuts, dropped, live)


def _count_event(metrics: Metrics, kind: str) -> None:
    metrics.agent_event(kind)
    outcome = _DEPLOYMENT_OUTCOMES.get(kind)
    if outcome is not None:
        metrics.deployment(outcome)


_DEPLOYMENT_OUTCOMES = {"deployed": "deployed", "upgraded": "replaced"}


def instrument_conversations(metrics: Metrics, manager: ConversationManager) -> None:
    """Conversations by protocol and outcome, and what the manager had to step in for."""

    def collect() -> Iterator[Metric]:
        open_now = gauge("caxton_conversations_open", "Conversations following a protocol that"
                         " have not ended, by protocol.", ["protocol"])
        for protocol, count in sorted(manager.open_by_protocol().items()):
            open_now.add_metric([protocol], count)
        yield open_now
        ended = counter("caxton_conversations_ended", "Conversations that ended, by protocol"
                        " and status (done, expired).", ["protocol", "status"])
        for (protocol, status), count in sorted(manager.ended.items()):
            ended.add_metric([protocol, status], count)
        yield ended
        for name, doc, value in (
            ("caxton_conversation_violations", "Messages held back for breaking their"
             " protocol (answered not-understood).", manager.violations),
            ("caxton_conversation_late_answers", "Answers held back for coming after their"
             " reply-by deadline.", manager.late),
            ("caxton_conversation_timeouts", "Parties timed out at a reply-by deadline.",
             manager.timeouts),
        ):
            family = counter(name, doc)
            family.add_metric([], value)
            yield family

    metrics.watch(collect)


def instrument_mtp(metrics: Metrics, mtp: Mtp) -> None:
    """The FIPA HTTP MTP's counters and queue, read at scrape time."""

    def collect() -> Iterator[Metric]:
        out, inbound = mtp.transport, mtp.endpoint
        for name, doc, value in (
            ("caxton_mtp_messages_sent", "Messages delivered to other platforms over the FIPA"
             " HTTP MTP.", out.sent),
            ("caxton_mtp_messages_failed", "Outbound MTP messages given up on (the sender got a"
             " failure).", out.failed),
            ("caxton_mtp_retries", "Outbound MTP attempts that were retried.", out.retried),
            ("caxton_mtp_destinations_refused", "Outbound MTP messages refused before any "
             "connection: no address of theirs may be posted to (also counted as failed).",
             out.refused),
            ("caxton_mtp_messages_received", "Messages accepted on POST /acc.", inbound.received),
            ("caxton_mtp_requests_rejected", "POST /acc bodies refused as malformed.",
             inbound.rejected),
            ("caxton_mtp_senders_refused", "POST /acc messages refused (403) because their "
             "sender or reply-to claims an agent of this platform.", inbound.impostors),
        ):
            family = counter(name, doc)
            family.add_metric([], value)
            yield family
        queued = gauge("caxton_mtp_queue_messages", "Outbound MTP messages waiting to be sent.")
        queued.add_metric([], out.queued)
        yield queued

    metrics.watch(collect)


def mount(app: Starlette, metrics: Metrics) -> None:
    """Serve ``/metrics`` and time every API request by route."""

    async def scrape(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    paths = {route.endpoint: route.path for route in app.routes if isinstance(route, Route)}
    app.add_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=metrics, paths=paths)


def serve_metrics(metrics: Metrics, host: str, port: int, *,
                  tls: ssl.SSLContext | None = None, timeout_s: float = 10.0
                  ) -> WSGIServer | None:
    """Also serve the metrics on a port of their own (``port`` -1: don't), over TLS with the
    context ``tls``; OSError when the port cannot be had (the caller names the option that
    moves it)."""
    if port < 0:
        return None
    if tls is not None:
        server: WSGIServer = serve_metrics_tls(metrics.registry, host, port, tls, timeout_s)
    else:
        server, _ = start_http_server(port, addr=host, registry=metrics.registry)
    log.info("caxton metrics listening", port=server.server_address[1], tls=tls is not None)
    return server
