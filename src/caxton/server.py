"""The composition root: builds every part from a ServerConfig and runs the server.

Nothing else in Caxton constructs its collaborators; each part receives what it needs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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

from caxton._edge_setup import http_protocol, loop_factory
from caxton._gc import settle_startup, tune_for_messages
from caxton._security_setup import (
    authentication,
    browser_policy,
    mtp_client_tls,
    on_hangup,
    server_tls,
)
from caxton.api.acceptance import AcceptanceLedger
from caxton.api.deploy_gate import DeployGate
from caxton.api.directory import DirectoryService
from caxton.api.grpc.guard import GrpcGuard
from caxton.api.grpc.server import GrpcServer
from caxton.api.mtp import Mtp
from caxton.api.platforms import PlatformService
from caxton.api.rest.app import build_app
from caxton.api.security import SecurityService
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
from caxton.security.audit import AuditTrail, ViolationAudit
from caxton.security.client_certs import client_certificate
from caxton.security.key_book import KeyBook
from caxton.security.tls import ServerTls
from caxton.store.api_keys import ApiKeyRepository
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
    security: SecurityService

    @classmethod
    def open(cls, config: ServerConfig) -> Runtime:
        mtp_tls = mtp_client_tls(config)  # a bad file fails here, before anything is opened
        config.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(config.data_dir, durability=config.durability, init=config.init)
        engine = SandboxEngine(cache_dir=config.data_dir / "compiled",
                               memory_reservation=config.memory_reservation_bytes)
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
            hibernate_idle_s=config.hibernate_idle_s,
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
                         tls=mtp_tls, known=book.knows)
        instrument_mtp(metrics, mtp)
        keys = KeyBook(ApiKeyRepository(store.readers), store.submit)
        keys.restore()
        security = SecurityService(keys, AuditTrail(store.readers, store.submit))
        host.on_violation = ViolationAudit(security.audit)  # agent permissions, audited
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
                   conversations, sweeper, mtp=mtp, security=security)

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
                 grace_s: float, handshake_timeout_s: float | None = None) -> None:
        super().__init__(config)
        self._service = service
        self._grpc = grpc_server
        self._grace_s = grace_s
        self._handshake_timeout_s = handshake_timeout_s

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self._handshake_timeout_s is None:
            await super().startup(sockets)
            return
        # uvicorn gives asyncio no TLS handshake timeout, so asyncio's default of 60 s would
        # let a client that connects and says nothing hold a connection that long (the header
        # deadline starts after the handshake). Its listeners get ours.
        loop = asyncio.get_running_loop()
        loop.create_server = functools.partial(  # type: ignore[method-assign]
            loop.create_server, ssl_handshake_timeout=self._handshake_timeout_s)
        try:
            await super().startup(sockets)
        finally:
            del loop.create_server

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
    tune_for_messages()
    lock = DataDirLock(config.data_dir)
    lock.acquire()
    try:
        check_ports(config)  # a taken port fails here, before the store opens
        tls = server_tls(config)  # and so do unusable certificate files
    except ConfigError:
        lock.release()
        raise
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until _serve's loop takes it: not a stop
    try:
        with asyncio.Runner(loop_factory=loop_factory(config.event_loop)) as runner:
            runner.run(_serve(config, stop, tls))
    finally:
        with contextlib.suppress(OSError):
            (config.data_dir / SERVER_FILE).unlink()
        lock.release()


async def _serve(config: ServerConfig, stop: _StopRequest, tls: ServerTls | None = None  # noqa: PLR0915 - one start-up sequence, in order
                 ) -> None:
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hangup, tls)
    runtime = await asyncio.to_thread(Runtime.open, config)
    settle_startup()
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
    scheme = "https" if tls is not None else "http"
    url = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    try:
        auth, limits = authentication(config, runtime.security.keys)
    except ConfigError:  # a JWT key file that cannot be used
        sock.close()
        close_once()
        raise
    try:
        grpc_server = GrpcServer(runtime.service, host=config.grpc_listen_host,
                                 port=config.grpc_port,
                                 max_receive_bytes=config.max_module_bytes + 1024 * 1024,
                                 handshake_timeout_s=config.http_header_timeout_s,
                                 credentials=tls.grpc_credentials() if tls else None,
                                 guard=GrpcGuard(auth, limits, runtime.security.audit,
                                                 certificate_of=client_certificate
                                                 if tls else None))
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
                    mtp=runtime.mtp.serving(host, port, scheme), security=runtime.security,
                    guard={"auth": auth, "limits": limits, "audit": runtime.security.audit,
                           "browser": browser_policy(config),
                           "metrics_open": config.metrics_open})
    mount(app, runtime.metrics)
    server = _Server(uvicorn.Config(
        app, lifespan="on", log_config=None, access_log=False,
        # Not behind a proxy: uvicorn would believe X-Forwarded-For from 127.0.0.1, and any
        # local client could then pick the address the per-address limits count.
        proxy_headers=False,
        timeout_graceful_shutdown=int(config.shutdown_timeout_s), server_header=False,
        # httptools (or h11) with a header deadline, a header size limit and a connection cap,
        # reading the empty line JADE writes after a body (RFC 9112)
        http=http_protocol(config),
        timeout_keep_alive=config.http_keep_alive_s,  # type: ignore[arg-type]  # a float works
        ssl_context_factory=(None if tls is None else lambda _config, _default: tls.rest_context),
    ), runtime.service, grpc_server, config.shutdown_timeout_s,
        handshake_timeout_s=config.http_header_timeout_s if tls is not None else None)
    (config.data_dir / SERVER_FILE).write_bytes(orjson.dumps(
        {"url": url, "grpc": grpc_server.target, "pid": os.getpid(), "tls": tls is not None}))
    stop.server = server
    server.should_exit = stop.requested  # a signal during start-up still stops us cleanly
    try:
        metrics_server = serve_metrics(runtime.metrics, config.host, config.metrics_port,
                                       tls=tls.rest_context if tls else None,
                                       timeout_s=config.http_header_timeout_s)
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
