"""The composition root: builds every part from a ServerConfig and runs the server.

Nothing else in Caxton constructs its collaborators; each part receives what it needs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import structlog
import uvicorn
from starlette.applications import Starlette

from caxton.api.acceptance import AcceptanceLedger
from caxton.api.deploy_gate import DeployGate
from caxton.api.directory import DirectoryService
from caxton.api.grpc.server import GrpcServer
from caxton.api.mtp import Mtp
from caxton.api.platforms import PlatformService
from caxton.api.rest.app import build_app
from caxton.api.rest.http_protocol import guarded_protocol
from caxton.api.service import CaxtonService
from caxton.config import ServerConfig
from caxton.errors import ConfigError
from caxton.listen import Listener, check_ports, listen_error
from caxton.router.local import Router
from caxton.runtime.cascades import CascadeGuard
from caxton.runtime.conversation_sweeper import ConversationSweeper
from caxton.runtime.conversations import ConversationManager, ConversationSettings
from caxton.runtime.delivery import RetryPolicy
from caxton.runtime.host import AgentHost, HostSettings
from caxton.runtime.platform_agents import install as install_platform_agents
from caxton.runtime.platforms import PlatformBook
from caxton.runtime.scheduler import Scheduler
from caxton.sandbox.engine import SandboxEngine
from caxton.store.lock import DataDirLock
from caxton.store.platforms import PlatformRepository
from caxton.store.store import Store
from caxton.telemetry.instrument import (
    instrument,
    instrument_conversations,
    instrument_mtp,
    mount,
    serve_metrics,
)
from caxton.telemetry.logging import configure_logging
from caxton.telemetry.metrics import Metrics
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.server")
SERVER_FILE = "server.json"


@dataclass
class Runtime:
    """The running parts, for the server and for in-process use (benchmarks, embedding)."""

    config: ServerConfig
    store: Store
    engine: SandboxEngine
    scheduler: Scheduler
    router: Router
    host: AgentHost
    service: CaxtonService
    metrics: Metrics
    conversations: ConversationManager
    sweeper: ConversationSweeper
    mtp: Mtp

    @classmethod
    def open(cls, config: ServerConfig) -> Runtime:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(config.data_dir, durability=config.durability, init=config.init)
        engine = SandboxEngine(cache_dir=config.data_dir / "compiled")
        scheduler = Scheduler(config.workers)
        router = Router(store)
        guard = CascadeGuard(max_hops=config.max_hops,
                             max_in_flight=config.max_cascade_in_flight)
        router.guard = guard
        tracking = ConversationSettings(idle_timeout_s=config.conversation_idle_timeout_s,
                                        retention_s=config.conversation_retention_s)
        conversations = ConversationManager(tracking, submit=store.submit,
                                            route=router.route_batch)
        conversations.restore(store.conversation_log.open(tracking.recently_closed))
        router.observer = conversations
        sweeper = ConversationSweeper(conversations, store.submit, prune_every_s=min(
            60.0, config.conversation_retention_s / 2))
        host = AgentHost(engine, store, router, scheduler, HostSettings(
            mailbox_capacity=config.mailbox_capacity,
            max_module_bytes=config.max_module_bytes,
            drain_timeout_s=config.shutdown_timeout_s,
            max_state_bytes=config.max_state_bytes,
            max_total_memory_bytes=config.max_total_memory_bytes,
            retry=RetryPolicy(max_attempts=config.max_attempts,
                              backoff_s=config.retry_backoff_ms / 1000,
                              failure_threshold=config.failure_threshold),
        ))
        acceptances = AcceptanceLedger(store.acceptances, store.submit,
                                       window_s=config.dedup_window_s,
                                       capacity=config.dedup_memory,
                                       barrier=store.writer.barrier)
        acceptances.prime(upgraded=store.acceptances_upgraded)
        service = CaxtonService(
            host, router, store,
            default_limits=config.default_limits(),
            max_message_bytes=config.max_request_bytes,
            max_wait_s=config.max_wait_s,
            acceptances=acceptances,
            max_content_depth=config.max_content_depth,
            ceilings=config.limit_ceilings(),
            deploy_gate=DeployGate(config.max_concurrent_deploys, config.max_queued_deploys),
        )
        metrics = Metrics()
        instrument(metrics, host=host, router=router, store=store, guard=guard)
        instrument_conversations(metrics, conversations)
        service.max_write_backlog = config.max_write_backlog
        tracing = Tracing(config.otlp_endpoint or None)
        if tracing.enabled:
            host.tracing = service.tracing = tracing
            router.add_tap(lambda msg: tracing.route(msg, "routed"))
        book = PlatformBook(PlatformRepository(store.readers), store.submit,
                            own=config.platform_name, configured=config.platform_book)
        book.restore()
        service.platforms = PlatformService(book)
        mtp = Mtp.attach(router, platform=config.platform_name, acc_url=config.acc_url,
                         max_bytes=config.max_request_bytes, max_depth=config.max_content_depth,
                         tracing=service.tracing, allowed_hosts=config.mtp_allowed,
                         deliveries=store, acceptances=acceptances, book=book.urls,
                         known=book.knows)
        instrument_mtp(metrics, mtp)
        service.directory = DirectoryService(install_platform_agents(  # df, ams, service:...
            store, router, host.all, platform=config.platform_name, acc_url=config.acc_url,
            server_file=config.data_dir / SERVER_FILE))
        engine.start()
        scheduler.start()
        host.restore()
        sweeper.start()
        service.rates_ticker.start()
        service.ready = True
        return cls(config, store, engine, scheduler, router, host, service, metrics,
                   conversations, sweeper, mtp=mtp)

    def close(self) -> None:
        self.service.ready = False
        self.service.rates_ticker.stop()
        self.host.shutdown(self.config.shutdown_timeout_s)
        self.mtp.close(self.config.shutdown_timeout_s)
        self.sweeper.stop()
        self.scheduler.stop()
        self.engine.stop()
        self.store.close()
        self.host.tracing.shutdown()


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it small responses wait on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, plus the gRPC server and the message streams, which stop alongside it."""

    def __init__(self, config: uvicorn.Config, service: CaxtonService, grpc_server: GrpcServer,
                 grace_s: float) -> None:
        super().__init__(config)
        self._service = service
        self._grpc = grpc_server
        self._grace_s = grace_s

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Streams never finish by themselves: end them first, so that both servers' graceful
        # waits see them complete instead of cancelling them at the deadline.
        self._service.end_watches()
        await asyncio.gather(self._grpc.stop(self._grace_s), super().shutdown(sockets))


class _StopRequest:
    """Our own SIGINT/SIGTERM handler, in force outside uvicorn's serving window.

    It catches a signal that arrives while agents are being restored, and it is the handler
    uvicorn hands the signal back to after its graceful shutdown, so the process exits 0
    instead of dying by the signal.
    """

    def __init__(self) -> None:
        self.requested = False
        self.server: uvicorn.Server | None = None

    def __call__(self, _signum: int, _frame: object) -> None:
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True


def run(config: ServerConfig) -> None:
    """Start the server and block until SIGINT/SIGTERM; raises CaxtonError on bad start-up."""
    configure_logging(config.log_level, config.log_format)
    lock = DataDirLock(config.data_dir)
    lock.acquire()
    try:
        check_ports(config)  # a taken port fails here, before the store opens
    except ConfigError:
        lock.release()
        raise
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        asyncio.run(_serve(config, stop))
    finally:
        with contextlib.suppress(OSError):
            (config.data_dir / SERVER_FILE).unlink()
        lock.release()


async def _serve(config: ServerConfig, stop: _StopRequest) -> None:  # noqa: PLR0915 - one start-up sequence, in order
    runtime = await asyncio.to_thread(Runtime.open, config)
    closed = False

    def close_once() -> None:
        nonlocal closed
        if not closed:
            closed = True
            runtime.close()

    try:
        sock = bind(config.host, config.port)
    except OSError as exc:
        close_once()
        raise listen_error(Listener("HTTP", config.host, config.port, "--port"), exc) from None
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    try:
        grpc_server = GrpcServer(runtime.service, host=config.grpc_listen_host,
                                 port=config.grpc_port,
                                 max_receive_bytes=config.max_module_bytes + 1024 * 1024,
                                 handshake_timeout_s=config.http_header_timeout_s)
    except ConfigError:  # taken since check_ports looked
        sock.close()
        close_once()
        raise listen_error(Listener("gRPC", config.grpc_listen_host, config.grpc_port,
                                    "--grpc-port"), None) from None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Announced from here: uvicorn has taken over the signals by now.
        log.info("caxton listening", url=url, data_dir=str(config.data_dir),
                 agents=len(runtime.host.all()))
        print(f"caxton listening on {url}", flush=True)  # users and tests wait for this line
        log.info("caxton grpc listening", target=grpc_server.target)
        print(f"caxton grpc listening on {grpc_server.target}", flush=True)  # and this one
        yield
        # uvicorn has stopped accepting and finished in-flight requests by now; deploys that
        # answered 202 may still run: give them the same grace.
        await runtime.service.deployments.drain(config.shutdown_timeout_s)
        await asyncio.to_thread(close_once)

    runtime.mtp.listening(grpc_server.port)  # the MTP never POSTs to the server's listeners
    if config.metrics_port > 0:
        runtime.mtp.listening(config.metrics_port)
    app = build_app(runtime.service, max_request_bytes=config.max_request_bytes,
                    max_module_bytes=config.max_module_bytes, lifespan=lifespan,
                    body_timeout_s=config.http_body_timeout_s,
                    deploy_upload_timeout_s=config.deploy_upload_timeout_s,
                    mtp=runtime.mtp.serving(host, port))
    mount(app, runtime.metrics)
    server = _Server(uvicorn.Config(
        app, lifespan="on", log_config=None, access_log=False,
        timeout_graceful_shutdown=int(config.shutdown_timeout_s), server_header=False,
        # h11 with a header deadline and a connection cap, reading the empty line JADE writes
        # after a body (RFC 9112)
        http=guarded_protocol(header_timeout_s=config.http_header_timeout_s,
                              max_connections=config.max_connections),
        timeout_keep_alive=config.http_keep_alive_s,  # type: ignore[arg-type]  # a float works
    ), runtime.service, grpc_server, config.shutdown_timeout_s)
    (config.data_dir / SERVER_FILE).write_bytes(orjson.dumps(
        {"url": url, "grpc": grpc_server.target, "pid": os.getpid()}))
    stop.server = server
    server.should_exit = stop.requested  # a signal during start-up still stops us cleanly
    try:
        metrics_server = serve_metrics(runtime.metrics, config.host, config.metrics_port)
        if metrics_server is not None:
            runtime.mtp.listening(metrics_server.server_address[1])
    except OSError as exc:
        sock.close()
        close_once()
        raise listen_error(Listener("metrics", config.host, config.metrics_port,
                                    "--metrics-port"), exc) from None
    try:
        await grpc_server.start()
        await server.serve(sockets=[sock])
    finally:
        await grpc_server.stop(0)  # no-op after a graceful stop; else cancels what is left
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        await asyncio.to_thread(close_once)
    log.info("caxton stopped")


def data_dir_url(data_dir: Path) -> str | None:
    """The URL of the server running on ``data_dir``, if one wrote its server file."""
    try:
        return str(orjson.loads((data_dir / SERVER_FILE).read_bytes())["url"])
    except (OSError, ValueError, KeyError):
        return None


__all__ = ["Runtime", "bind", "data_dir_url", "run"]
