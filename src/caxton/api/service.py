"""The one service layer behind every API (REST now, gRPC later): operations, not transports.

Methods are coroutines for the event loop; anything slow or blocking (compiling a module,
waiting for the database) runs in a thread or is awaited through a future.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from caxton.api.acceptance import AcceptanceLedger, Accepted, Ticket
from caxton.api.deploy_gate import DeployGate
from caxton.api.deployments import Deployments, StageHook, in_daemon_thread
from caxton.api.directory import DirectoryService
from caxton.api.events import EventBus
from caxton.api.platforms import PlatformService
from caxton.api.records import StoredRecords
from caxton.api.wakeups import Wakeups
from caxton.api.watch import DEFAULT_CAPACITY, MessageWatch
from caxton.domain.acl import AclMessage, parse_message, parse_performative
from caxton.domain.agent_permissions import AgentPermissions, parse_permissions
from caxton.domain.idempotency import fingerprint
from caxton.domain.ids import (
    is_client_inbox,
    new_client_inbox,
    new_id,
    validate_agent_name,
)
from caxton.domain.limits import LimitCeilings, ResourceLimits
from caxton.domain.nesting import DEFAULT_MAX_CONTENT_DEPTH
from caxton.errors import (
    AgentNotFoundError,
    InvalidMessageError,
    PayloadTooLargeError,
    ReplyTimeoutError,
    StoreBusyError,
    StoreError,
)
from caxton.router.local import ClientInbox, Router
from caxton.runtime.cell import AgentCell
from caxton.runtime.host import AgentHost
from caxton.security.context import require, require_sender
from caxton.security.permissions import Permission
from caxton.store.store import Store
from caxton.telemetry.rates import Ticker, message_rates
from caxton.telemetry.tracing import Tracing

DEFAULT_CEILINGS = LimitCeilings()


@dataclass(frozen=True, slots=True)
class DeployRequest:
    name: str
    module: bytes
    version: str = "0.1.0"
    limits: dict[str, int | None] | None = None
    services: Any = None  # JSON list of service descriptions: the agent's DF registration
    # JSON object of the agent's permissions (domain.agent_permissions); None: none declared
    permissions: Any = None


@dataclass(frozen=True, slots=True)
class SendResult:
    message: AclMessage
    reply: AclMessage | None
    duplicate: bool = False  # the message_id was accepted before; nothing was sent again

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message": self.message.to_dict(),
            "reply": self.reply.to_dict() if self.reply is not None else None,
        }
        if self.duplicate:
            out["duplicate"] = True
        return out


def agent_view(cell: AgentCell) -> dict[str, Any]:
    record = cell.record
    return {
        "name": record.name,
        "version": record.version,
        "state": cell.state.value,
        "module_hash": record.module_hash,
        "limits": record.limits.to_dict(),
        "permissions": (record.permissions.to_dict() if record.permissions is not None
                        else None),
        "deployed_at": record.deployed_at,
        "mailbox_depth": cell.mailbox_depth,
        "memory_bytes": cell.memory_bytes(),
        "hibernated": cell.hibernated and cell.instance is None,
        "stats": cell.stats.to_dict(),
    }


class CaxtonService(StoredRecords):
    def __init__(
        self,
        host: AgentHost,
        router: Router,
        store: Store,
        *,
        default_limits: ResourceLimits,
        max_message_bytes: int,
        max_wait_s: float,
        acceptances: AcceptanceLedger,
        max_content_depth: int = DEFAULT_MAX_CONTENT_DEPTH,
        ceilings: LimitCeilings = DEFAULT_CEILINGS,
        deploy_gate: DeployGate | None = None,
    ) -> None:
        self._host = host
        self._router = router
        self._store = store
        self._default_limits = default_limits
        self._ceilings = ceilings
        self.deploy_gate = deploy_gate or DeployGate(slots=2, queue=16)
        self._max_message_bytes = max_message_bytes
        self._max_wait_s = max_wait_s
        self._max_content_depth = max_content_depth
        self.started_at = time.time()
        self.ready = False
        self.max_write_backlog = 50_000
        self.tracing = Tracing(env={})  # off; the composition root swaps in the configured one
        # Client-chosen message ids: each accepted once (api/acceptance.py).
        self.acceptances = acceptances
        self._watches: set[MessageWatch] = set()
        self._watches_ended = False
        self._wakeups_cache: Wakeups | None = None
        self.directory: DirectoryService | None = None  # set by the composition root
        self.platforms: PlatformService | None = None  # the address book, set there too
        self.events = EventBus()  # agent lifecycle and deployment events (api/events.py)
        self.deployments = Deployments()  # deploys that run on while clients poll
        host.events.add_listener(self.events.publish)
        self.rates = message_rates(router, host.all)  # messages per second, last minute
        self.rates_ticker = Ticker(self.rates)  # started and stopped by the composition root

    # -- agents --------------------------------------------------------------------------------
    async def deploy(self, request: DeployRequest, on_stage: StageHook | None = None, *,
                     detached: bool = False) -> dict[str, Any]:
        """Deploy a module the transport already holds (gRPC, a started deployment), in turn
        with other deploys; ``on_stage`` hears each stage begin (from a thread)."""

        async def given() -> DeployRequest:
            return request

        return await self.deploy_read(given, on_stage, detached=detached)

    async def deploy_read(self, read: Callable[[], Awaitable[DeployRequest]],
                          on_stage: StageHook | None = None, *, detached: bool = False
                          ) -> dict[str, Any]:
        """Take a deploy slot (see DeployGate), *then* ``read`` the request and deploy it.

        REST passes a reader of the request body, so that deploys waiting for a slot do not
        hold their modules in memory. ``detached``: in a thread that shutdown does not wait
        for (a deploy no request waits on, see ``start_deployment``).
        """
        async with self.deploy_gate.slot():
            request = await read()
            limits, services, permissions = self._check_deploy(request)
            work = functools.partial(self._host.deploy, request.name, request.module,
                                     request.version, limits,
                                     *((on_stage,) if on_stage is not None else ()),
                                     permissions=permissions)
            cell = await (in_daemon_thread(work) if detached else asyncio.to_thread(work))
        if self.directory is not None:
            await self.directory.declare(request.name, services)
        return agent_view(cell)

    def start_deployment(self, request: DeployRequest) -> dict[str, Any]:
        """Check the request, start deploying it, and answer at once (api/deployments.py)."""
        self._check_deploy(request)  # bad fields fail the request, not the deployment
        return self.deployments.start(request.name, request.version, len(request.module),
                                      lambda on_stage: self.deploy(request, on_stage,
                                                                   detached=True))

    def _check_deploy(self, request: DeployRequest
                      ) -> tuple[ResourceLimits, Any, AgentPermissions | None]:
        validate_agent_name(request.name)
        require(Permission.agents_deploy, request.name)  # a grant scoped to some agents
        limits = self._default_limits.with_overrides(dict(request.limits or {}))
        self._ceilings.check(limits)
        if not request.version or len(request.version) > 64:
            raise InvalidMessageError("version", "must be 1 to 64 characters")
        return (limits, DirectoryService.parse_services(request.services),
                parse_permissions(request.permissions))

    async def list_agents(self) -> list[dict[str, Any]]:
        return [agent_view(cell) for cell in self._host.all()]

    async def get_agent(self, name: str) -> dict[str, Any]:
        return agent_view(self._host.get(name))

    async def agent_logs(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        return list(self._host.get(name).logs)[-limit:]

    async def remove_agent(self, name: str) -> None:
        self._host.get(name)
        await asyncio.to_thread(self._host.remove, name)
        if self.directory is not None:
            await self.directory.removed(name)

    async def stop_agent(self, name: str) -> dict[str, Any]:
        return agent_view(await asyncio.to_thread(self._host.stop, name))

    async def start_agent(self, name: str) -> dict[str, Any]:
        return agent_view(await asyncio.to_thread(self._host.start, name))

    # -- messages ------------------------------------------------------------------------------
    @property
    def router(self) -> Router:
        """The router, for operations built on this layer (the protocol drivers, api/drivers)."""
        return self._router

    async def send(self, obj: Any, *, wait: bool = False, timeout: float = 30.0) -> SendResult:
        """Accept a message from a client; with ``wait``, return the first reply to it.

        The call returns once the message is durably logged. A receiver with no agent still
        gets the message routed (so the conversation shows the platform's ``failure``), then
        the call raises AgentNotFoundError. A message whose ``message_id`` the client chose is
        accepted once: a repeat (even at the same moment) answers with the first acceptance.
        """
        inbox = new_client_inbox()
        sender = obj.get("sender") if isinstance(obj, dict) else None
        if isinstance(sender, str) and not is_client_inbox(sender):
            require_sender(sender)  # no sending as an agent the caller's grant does not cover
        msg = parse_message(obj, sender=None if sender else inbox,
                            max_depth=self._max_content_depth)
        keyed = isinstance(obj, dict) and "message_id" in obj
        ticket: Ticket | None = None
        if not keyed:
            # Signed, so that it is known again if the client sends the message again.
            msg.message_id = self.acceptances.issue(msg.message_id)
        else:
            admitted = await self.acceptances.admit(
                msg, fingerprint(msg, sender_given=bool(sender)))
            if isinstance(admitted, Accepted):
                return await self._repeat(admitted, wait=wait, timeout=timeout)
            ticket = admitted
        try:
            self._check(msg, inbox, wait=wait)
            return await self._send(msg, inbox, ticket, wait=wait, timeout=timeout)
        finally:
            if ticket is not None:
                ticket.release()  # gives the id back if the message was refused

    def _check(self, msg: AclMessage, inbox: str, *, wait: bool) -> None:
        """Refuse what cannot be sent now; give the message a conversation (and, for ``wait``,
        the inbox as its reply address)."""
        if self._store.backlog > self.max_write_backlog:
            raise StoreBusyError(
                f"the store is behind ({self._store.backlog} writes queued); retry shortly")
        if msg.conversation_id is None:
            msg.conversation_id = new_id()
        if wait:
            if msg.reply_to and inbox not in msg.reply_to:
                raise InvalidMessageError(
                    "reply_to", "cannot wait for a reply that reply_to sends elsewhere")
            if msg.sender != inbox:
                msg.reply_to = (inbox,)
        if msg.wire_size > self._max_message_bytes:
            raise PayloadTooLargeError(
                f"message of {msg.wire_size} bytes exceeds the limit of {self._max_message_bytes}")
        self._host.deliverable(msg)

    def _wakeups(self, loop: asyncio.AbstractEventLoop) -> Wakeups:
        """The batcher of hand-offs to ``loop`` (the server has one loop; tests may make more)."""
        wakeups = self._wakeups_cache
        if wakeups is None or wakeups.loop is not loop:
            wakeups = self._wakeups_cache = Wakeups(loop)
        return wakeups

    async def _send(self, msg: AclMessage, inbox: str, ticket: Ticket | None, *, wait: bool,
                    timeout: float) -> SendResult:
        missing = [r for r in msg.receiver
                   if not self._router.knows(r, msg) and not is_client_inbox(r)]
        loop = asyncio.get_running_loop()
        wakeups = self._wakeups(loop)
        reply_future: asyncio.Future[AclMessage] = loop.create_future()
        if wait:
            key = msg.reply_key
            conversation = msg.conversation_id

            def on_reply(reply: AclMessage) -> None:
                if reply.in_reply_to == key or reply.conversation_id == conversation:
                    wakeups.post(_settle, reply_future, reply)

            self._router.register(inbox, ClientInbox(on_reply))
            if ticket is not None:
                ticket.awaits(reply_future)
        try:
            logged: asyncio.Future[None] = loop.create_future()

            def on_commit(error: BaseException | None) -> None:
                wakeups.post(_settle_commit, logged, error)
                if ticket is not None:
                    wakeups.post(ticket.committed, msg, error)

            extra = [ticket.record(msg)] if ticket is not None else []
            with self.tracing.send(msg):
                self._router.route_batch((msg,), extra=extra, on_commit=on_commit)
            if ticket is not None:
                ticket.routed()
            await logged
            if missing:
                reason = f"no agent named '{missing[0]}'"
                if ticket is not None:
                    ticket.missing(reason)
                raise AgentNotFoundError(reason)
            if not wait:
                return SendResult(msg, None)
            limit = min(max(timeout, 0.001), self._max_wait_s)
            reply = await first_result(reply_future, limit)
            if reply is None:
                raise ReplyTimeoutError(
                    f"no reply from {', '.join(msg.receiver)} within {limit:g}s")
            return SendResult(msg, reply)
        finally:
            if wait:
                self._router.unregister(inbox)

    async def _repeat(self, first: Accepted, *, wait: bool, timeout: float) -> SendResult:
        """The answer to a repeat of an accepted message id: the first acceptance."""
        if first.missing is not None:
            raise AgentNotFoundError(first.missing)
        if not wait:
            return SendResult(first.message, None, duplicate=True)
        limit = min(max(timeout, 0.001), self._max_wait_s)
        try:
            reply = await self.acceptances.reply(first, limit)
        except TimeoutError:
            raise ReplyTimeoutError(
                f"no reply from {', '.join(first.message.receiver)} within {limit:g}s") from None
        return SendResult(first.message, reply, duplicate=True)

    def watch_messages(self, *, agent: str | None = None, performative: str | None = None,
                       capacity: int = DEFAULT_CAPACITY) -> MessageWatch:
        """Watch routed messages from now on (every API's stream goes through here).

        ``agent`` keeps messages it sent or receives; ``performative`` keeps one act. Call
        from the event loop; close the watch when the client goes away.
        """
        perf = parse_performative(performative) if performative else None
        watch = MessageWatch(asyncio.get_running_loop(), agent=agent or None,
                             performative=perf, capacity=capacity)
        remove_tap = self._router.add_tap(watch.tap)
        self._watches.add(watch)

        def closed() -> None:
            remove_tap()
            self._watches.discard(watch)

        watch.on_close(closed)
        if self._watches_ended:
            watch.end()
        return watch

    def end_watches(self) -> None:
        """End every stream cleanly (shutdown): they finish what is queued, then return."""
        self._watches_ended = True
        for watch in list(self._watches):
            watch.end()
        self.events.end()

    # -- health --------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {"status": "ok", "uptime_s": round(time.time() - self.started_at, 3)}

    def readiness(self) -> dict[str, Any]:
        cells = self._host.all()
        return {
            "status": "ready" if self.ready else "starting",
            "checks": {
                "store": "ok" if self.ready else "opening",
                "agents": {"total": len(cells),
                           "running": sum(1 for c in cells if c.state.value == "running")},
            },
            "messages": self.rates.rates(),
        }


async def first_result(future: asyncio.Future[AclMessage], limit: float) -> AclMessage | None:
    """``future``'s result once it has one, or None after ``limit`` seconds.

    ``future`` may be shared (repeats of a keyed message wait for the same reply), so it is
    neither cancelled nor failed here: a timer and a done-callback wake one waiter of our own.
    Cheaper than ``wait_for(shield(future))``, which makes a task and two futures per call.
    """
    if not future.done():
        loop = future.get_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not waiter.done():
                waiter.set_result(None)

        future.add_done_callback(wake)
        timer = loop.call_later(limit, wake)
        try:
            await waiter
        finally:  # also when the caller is cancelled (the client went away)
            timer.cancel()
            future.remove_done_callback(wake)
    if not future.done() or future.cancelled():
        return None
    return future.result()


def _settle(future: asyncio.Future[AclMessage], reply: AclMessage) -> None:
    if not future.done():
        future.set_result(reply)


def _settle_commit(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(StoreError(f"could not log the message: {error}"))
