"""Prometheus metrics: counters on the message path, and gauges read at scrape time.

One ``Metrics`` object per server, on its own registry (no process-global state). Hot-path
counters are bound to their label values once and cached, so counting a message is a dict
lookup and an increment. Per-agent figures (mailbox depth, fuel, memory, state) are not
updated on the message path at all: a collector reads them when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from caxton.domain.acl import AclMessage
from caxton.telemetry.batch_histogram import BatchHistogram

# Message handling is sub-millisecond when healthy; deadlines go up to seconds.
_FAST_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class AgentSnapshot(Protocol):
    """What the scrape-time collector reads from each agent."""

    @property
    def name(self) -> str: ...

    @property
    def mailbox_depth(self) -> int: ...


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._routed = Counter("caxton_messages_routed_total",
                               "Messages routed, by performative.", ["performative"], registry=r)
        self._processed = Counter(
            "caxton_messages_processed_total",
            "Agent handler runs, by performative and outcome (ok, retried, dead_lettered).",
            ["performative", "outcome"], registry=r)
        self._duration = BatchHistogram(
            "caxton_message_processing_duration_seconds",
            "Time an agent handler took per message.", "outcome", _FAST_BUCKETS,
            always=("ok",))
        r.register(self._duration)
        self._traps = Counter("caxton_sandbox_traps_total",
                              "Failed handler runs, by kind (trap, fuel_exhausted, timeout, ...).",
                              ["kind"], registry=r)
        self._fuel = Counter("caxton_fuel_consumed_total",
                             "Fuel (WebAssembly instructions) consumed by agent handlers.",
                             registry=r)
        self._api = Counter("caxton_api_requests_total", "API requests, by route and status.",
                            ["method", "route", "status"], registry=r)
        self._api_duration = Histogram("caxton_api_request_duration_seconds",
                                       "API request duration, by route.", ["method", "route"],
                                       buckets=_FAST_BUCKETS, registry=r)
        self._deployments = Counter("caxton_deployments_total",
                                    "Deployments, by outcome (deployed, replaced, rejected).",
                                    ["outcome"], registry=r)
        self._agent_events = Counter(
            "caxton_agent_events_total",
            "Agent lifecycle and deployment events, by kind (deployed, started, failed, ...).",
            ["kind"], registry=r)
        self._commit = Histogram("caxton_store_commit_duration_seconds",
                                 "Time to write and commit one group-commit batch.",
                                 buckets=_FAST_BUCKETS, registry=r)
        self._committed = Counter("caxton_store_statements_total",
                                  "Statements committed by the group-commit writer.", registry=r)
        self._routed_by: dict[str, Any] = {}
        self._processed_by: dict[tuple[str, str], Any] = {}

    # -- message path --------------------------------------------------------------------------
    def routed_batch(self, messages: list[AclMessage]) -> None:
        """A routed batch, counted per performative (one increment per batch and act)."""
        counts: dict[str, int] = {}
        for msg in messages:
            key = msg.performative._value_
            counts[key] = counts.get(key, 0) + 1
        for key, count in counts.items():
            child = self._routed_by.get(key)
            if child is None:
                child = self._routed_by[key] = self._routed.labels(key)
            child.inc(count)

    def processed(self, msg: AclMessage, outcome: str, seconds: float, fuel: int,
                  failure_kind: str | None = None) -> None:
        key = (msg.performative._value_, outcome)
        child = self._processed_by.get(key)
        if child is None:
            child = self._processed_by[key] = self._processed.labels(*key)
        child.inc()
        self._duration.observe("ok" if outcome == "ok" else "failed", seconds)
        if fuel > 0:
            self._fuel.inc(fuel)
        if failure_kind is not None:
            self._traps.labels(failure_kind).inc()

    def processed_turn(self, handled: list[tuple[AclMessage, Any]]) -> None:
        """The messages one agent's turn handled successfully (with their outcomes): counted
        per performative once per turn, not once per message."""
        counts: dict[str, int] = {}
        fuel = 0
        for msg, outcome in handled:
            key = msg.performative._value_
            counts[key] = counts.get(key, 0) + 1
            fuel += outcome.fuel_used
        self._duration.observe_many("ok", [outcome.duration_s for _, outcome in handled])
        for performative, count in counts.items():
            child = self._processed_by.get((performative, "ok"))
            if child is None:
                child = self._processed_by[(performative, "ok")] = self._processed.labels(
                    performative, "ok")
            child.inc(count)
        if fuel > 0:
            self._fuel.inc(fuel)

    def committed(self, seconds: float, statements: int) -> None:
        self._commit.observe(seconds)
        self._committed.inc(statements)

    # -- management ----------------------------------------------------------------------------
    def api_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._api.labels(method, route, str(status)).inc()
        self._api_duration.labels(method, route).observe(seconds)

    def deployment(self, outcome: str) -> None:
        self._deployments.labels(outcome).inc()

    def agent_event(self, kind: str) -> None:
        self._agent_events.labels(kind).inc()

    def watch(self, collect: Callable[[], Iterable[Metric]]) -> None:
        """Add figures computed at scrape time (agents, queues, store backlog)."""
        self.registry.register(_Callback(collect))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Callback(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        yield from self._collect()

    def describe(self) -> Iterator[Metric]:
        return iter(())


def gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def counter(name: str, doc: str, labels: list[str] | None = None) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)
