"""The inbound FIPA HTTP MTP (``fipa.mts.mtp.http.std``): ``POST /acc`` on the REST port.

Other platforms POST a ``multipart/mixed`` body, the XML envelope (SC00085) first and the ACL
payload (SC00070, or Caxton's JSON when the envelope says so) second. The message is delivered to
the envelope's intended receivers, logged like any other, and answered ``200 OK`` once logged,
which is what JADE's MTP waits for: with no body (JADE never reads one), unless the request's
``Accept`` asks for JSON (``{"message_id", "receiver"}``). A receiver that is not here gets the
sender a FIPA ``failure`` from ``ams`` over the outbound MTP, as the router answers every unknown
receiver.

A body Caxton cannot read (not multipart, a wrong boundary, bad XML, an unparsable ACL, too
large) is answered ``400`` with ``{code, message}`` naming the problem, and nothing is delivered.
"""

from __future__ import annotations

import asyncio

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from caxton.api.mtp import foreign
from caxton.api.rest.common import JSON, RequestError, error, read_body
from caxton.codecs import mtp
from caxton.errors import CodecError
from caxton.router.local import Router
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.mtp")


class AccEndpoint:
    """``POST /acc``; ``received`` and ``rejected`` count deliveries and refused bodies."""

    def __init__(self, router: Router, *, max_bytes: int, tracing: Tracing | None = None
                 ) -> None:
        self._router = router
        self._max_bytes = max_bytes
        self.tracing = tracing or Tracing(env={})
        self.received = 0
        self.rejected = 0

    def routes(self) -> list[Route]:
        return [Route("/acc", self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        """
        summary: FIPA HTTP MTP (fipa.mts.mtp.http.std) - a message from another platform
        description: >
          multipart/mixed: the XML transport envelope (SC00085), then the ACL message in the
          FIPA string representation (SC00070). Delivered to the envelope's intended receivers
          (name@platform or name); unknown ones get the sender a FIPA failure from ams.
        responses:
          200: {description: "Accepted and logged. No body, or {message_id, receiver} when the
            Accept header asks for application/json."}
          400: {description: The body cannot be read (the message says why); nothing delivered.}
        """
        try:
            body = await read_body(request, self._max_bytes)
            envelope, parsed = mtp.decode(request.headers.get("content-type", ""), body)
            msg = foreign.inbound(envelope, parsed,
                                  header_trace=request.headers.get("traceparent"))
        except CodecError as exc:
            return self._reject(exc.code, exc.message)
        except RequestError as exc:
            return self._reject(exc.code, exc.message)
        loop = asyncio.get_running_loop()
        logged: asyncio.Future[None] = loop.create_future()

        def on_commit(problem: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, logged, problem)

        with self.tracing.send(msg):
            self._router.route(msg, on_commit)
        try:
            await logged
        except Exception as exc:
            return error(503, "store_error", f"could not log the message: {exc}")
        self.received += 1
        if "application/json" in request.headers.get("accept", "").lower():
            return JSON({"message_id": msg.message_id, "receiver": list(msg.receiver)})
        # What FIPA peers expect: JADE's MTP reads the status line and headers of an answer,
        # never its body, and sends the next message on the same connection, where a body
        # would be read in place of the next answer.
        return Response(status_code=200)

    def _reject(self, code: str, message: str) -> Response:
        self.rejected += 1
        log.info("MTP request refused", code=code, reason=message)
        return error(400, code, message)


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
