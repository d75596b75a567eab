"""The inbound FIPA HTTP MTP (``fipa.mts.mtp.http.std``): ``POST /acc`` on the REST port.

Other platforms POST a ``multipart/mixed`` body, the XML envelope (SC00085) first and the ACL
payload (SC00070, or Caxton's JSON when the envelope says so) second. The message is delivered to
the envelope's intended receivers, logged like any other, and answered ``200 OK`` once logged,
which is what JADE's MTP waits for: with no body (JADE never reads one), unless the request's
``Accept`` asks for JSON (``{"message_id", "receiver"}``). A receiver that is not here gets the
sender a FIPA ``failure`` from ``ams`` over the outbound MTP, as the router answers every unknown
receiver.

A body Caxton cannot read (not multipart, a wrong boundary, bad XML, an unparsable ACL, an
unknown payload encoding, content nested too deeply) is answered ``400`` with ``{code, message}``
naming the problem, one over ``max_request_bytes`` ``413``; either way nothing is delivered.

A message whose sender (or ``reply-to``) claims an agent of this platform (``senders``) is
answered ``403`` with ``{code: "sender_refused", message}`` and not delivered.

A message that carries its own id (``X-caxton-message-id``, which another Caxton writes, or
``message_id`` in the JSON form) is accepted once, like an API client's (``api/acceptance``):
a POST repeated because its answer was lost is answered as the first was. FIPA ACL itself has
no message id (``reply-with`` is the sender's to choose and may repeat), so a message from JADE
and other platforms cannot be told from a repeat of it and is delivered each time it comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from caxton.api.acceptance import AcceptanceLedger, Accepted, Ticket
from caxton.api.mtp import foreign
from caxton.api.mtp.senders import impersonation
from caxton.api.rest.common import JSON, RequestError, error, read_body
from caxton.codecs import mtp
from caxton.domain.acl import AclMessage
from caxton.domain.idempotency import fingerprint
from caxton.domain.nesting import DEFAULT_MAX_CONTENT_DEPTH
from caxton.errors import CodecError, MessageIdConflictError, SenderRefusedError, StoreError
from caxton.router.local import Router
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.mtp")


class AccEndpoint:
    """``POST /acc``; ``received`` and ``rejected`` count deliveries and refused bodies,
    ``impostors`` messages refused for claiming one of our agents as their sender."""

    def __init__(self, router: Router, *, max_bytes: int,
                 max_depth: int = DEFAULT_MAX_CONTENT_DEPTH, tracing: Tracing | None = None,
                 acceptances: AcceptanceLedger | None = None, platform: str = "caxton",
                 acc_url: Callable[[], str] = lambda: "") -> None:
        self._router = router
        self._platform = platform
        self._acc_url = acc_url  # ours, known once the server listens
        self._acceptances = acceptances
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self.tracing = tracing or Tracing(env={})
        self.received = 0
        self.rejected = 0
        self.impostors = 0

    async def receive(self, request: Request) -> Response:
        """A POST to ``/acc`` (the REST app routes it here): 200 once logged, else 4xx."""
        try:
            body = await read_body(request, self._max_bytes)
            decoded = mtp.read(request.headers.get("content-type", ""), body,
                               max_depth=self._max_depth)
            msg = foreign.inbound(decoded.envelope, decoded.message,
                                  header_trace=request.headers.get("traceparent"))
        except CodecError as exc:
            return self._reject(exc.code, exc.message)
        except RequestError as exc:  # the body is over the limit: 413
            return self._reject(exc.code, exc.message, exc.status)
        claim = impersonation(msg, platform=self._platform, acc_url=self._acc_url())
        if claim is not None:
            self.impostors += 1
            refused = SenderRefusedError(claim)
            log.warning("MTP sender refused", sender=msg.sender, reason=claim,
                        client=request.client.host if request.client else None)
            return error(403, refused.code, refused.message)
        ticket: Ticket | None = None
        if decoded.carries_id and self._acceptances is not None:
            try:
                admitted = await self._acceptances.admit(msg, fingerprint(decoded.message))
            except MessageIdConflictError as exc:
                self.rejected += 1
                return error(409, exc.code, exc.message)
            except StoreError as exc:
                return error(503, "store_error", exc.message)
            if isinstance(admitted, Accepted):
                return _accepted(admitted.message, request)
            ticket = admitted
        try:
            return await self._route(msg, ticket, request)
        finally:
            if ticket is not None:
                ticket.release()

    async def _route(self, msg: AclMessage, ticket: Ticket | None, request: Request
                     ) -> Response:
        loop = asyncio.get_running_loop()
        logged: asyncio.Future[None] = loop.create_future()

        def on_commit(problem: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, logged, problem)
            if ticket is not None:
                loop.call_soon_threadsafe(ticket.committed, msg, problem)

        extra = [ticket.record(msg)] if ticket is not None else []
        with self.tracing.send(msg):
            self._router.route_batch((msg,), extra=extra, on_commit=on_commit)
        if ticket is not None:
            ticket.routed()
        try:
            await logged
        except Exception as exc:
            return error(503, "store_error", f"could not log the message: {exc}")
        self.received += 1
        return _accepted(msg, request)

    def _reject(self, code: str, message: str, status: int = 400) -> Response:
        self.rejected += 1
        log.info("MTP request refused", code=code, reason=message)
        return error(status, code, message)


def _accepted(msg: AclMessage, request: Request) -> Response:
    if "application/json" in request.headers.get("accept", "").lower():
        return JSON({"message_id": msg.message_id, "receiver": list(msg.receiver)})
    # What FIPA peers expect: JADE's MTP reads the status line and headers of an answer,
    # never its body, and sends the next message on the same connection, where a body
    # would be read in place of the next answer.
    return Response(status_code=200)


def _settle(future: asyncio.Future[None], problem: BaseException | None) -> None:
    if future.done():
        return
    if problem is None:
        future.set_result(None)
    else:
        future.set_exception(problem)


class AbsoluteFormTarget:
    """Route requests whose target is an absolute URI (``POST http://host:7778/acc HTTP/1.1``).

    HTTP/1.1 servers must accept that form, and FIPA HTTP MTP clients send it; uvicorn's h11
    protocol passes it through as the path, which no route matches. The scope is changed in
    place so middleware outside this one sees the same route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/"):
            path: str = scope["path"]
            scheme, sep, rest = path.partition("://")
            if sep and scheme.lower() in ("http", "https"):
                slash = rest.find("/")
                scope["path"] = rest[slash:] if slash >= 0 else "/"
                raw: bytes | None = scope.get("raw_path")
                if raw is not None and b"://" in raw:
                    tail = raw.partition(b"://")[2]
                    at = tail.find(b"/")
                    scope["raw_path"] = tail[at:] if at >= 0 else b"/"
        await self._app(scope, receive, send)
