"""The REST API's operations, declared once: what ``/openapi.json`` documents and what the
routes check are the same objects.

An ``Operation`` names its method and path, its path and query parameters (a msgspec Struct
whose fields are the query parameters), its request bodies by media type and its responses with
their status codes and models. ``RestApi`` keeps the operations with their handlers, builds the
Starlette routes (one per path, so a wrong method is a 405 whose ``Allow`` lists the path's
methods) and checks every request against its operation before the handler runs: the handler
gets a ``Call`` with the decoded query and body.

Adding an operation is one ``api.operation(...)`` decorator on its handler, beside the models it
names in ``caxton.api.rest.models``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caxton.api.rest.common import RequestError, read_body
from caxton.api.rest.models.common import ErrorBody
from caxton.api.rest.validation import check_body, decode_query, parse_json
from caxton.security.context import require
from caxton.security.permissions import REST, REST_TARGETS, Permission

JSON_MEDIA = "application/json"
SSE = "text/event-stream"
RAW = bytes  # a Body model meaning "the bytes as they are"
_DISCARD_LIMIT = 1024 * 1024  # unread bodies up to this size are read before an error answer


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response."""

    status: int
    description: str
    model: Any = None  # the JSON body's type; None: no body (or a non-JSON one, see media)
    media_type: str = JSON_MEDIA
    events: Any = None  # for an event stream: the type of each event's JSON data


@dataclass(frozen=True, slots=True)
class Body:
    """A request body the operation takes in one media type."""

    model: Any  # a msgspec type for JSON; RAW for bytes handed over unparsed
    limit: int  # bytes; a larger body is a 413
    media_type: str = JSON_MEDIA
    also: tuple[str, ...] = ()  # more media types read the same way
    description: str = ""
    error_code: str = "invalid_request"  # the code of a body that does not fit the model
    root: str = "request"  # the field named when the body as a whole is wrong
    fallback: bool = False  # also read so for any other (or no) Content-Type
    read_by_handler: bool = False  # documented here, read (within limit) by the handler
    unnest: tuple[str, ...] = ()  # members whose fields errors name alone ("fuel")

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.also)


@dataclass(frozen=True, slots=True)
class PathParam:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: tuple[Reply, ...]
    description: str = ""
    path_params: tuple[PathParam, ...] = ()
    query: type[msgspec.Struct] | None = None
    bodies: tuple[Body, ...] = ()
    # The handler reads the body itself (``Call.with_body``), say once it has a slot to work
    # in, so requests that wait do not hold their bodies in memory.
    deferred_body: bool = False

    def body_for(self, content_type: str) -> Body:
        """The body declaration a request's Content-Type selects; none: 415."""
        media = content_type.partition(";")[0].strip().lower()
        for body in self.bodies:
            if media in body.media_types or (body.media_type == JSON_MEDIA
                                             and media.endswith("+json")):
                return body
        fallback = next((b for b in self.bodies if b.fallback), None)
        if fallback is not None:
            return fallback
        if not media:  # clients that send JSON without saying so
            return self.bodies[0]
        accepted = ", ".join(m for b in self.bodies for m in b.media_types)
        raise RequestError(415, "unsupported_media_type",
                           f"Content-Type {media!r} is not accepted here; send {accepted}")

    async def bind(self, request: Request) -> Call:
        """The request checked against this operation (raises RequestError)."""
        query = decode_query(self.query, request.query_params) if self.query else None
        if self.deferred_body:
            if self.bodies:
                self.body_for(request.headers.get("content-type", ""))  # 415 before waiting
            return Call(request, request.path_params, query, None, None, self)
        return await self.bind_body(request, query)

    async def bind_body(self, request: Request, query: Any) -> Call:
        body = parsed = None
        if self.bodies:
            declared = self.body_for(request.headers.get("content-type", ""))
            request.state.body_read = True  # from here on the body is read (or the handler's)
            if declared.read_by_handler:
                return Call(request, request.path_params, query, None, None)
            raw = await read_body(request, declared.limit)
            if declared.model is RAW:
                body = parsed = raw
            else:
                parsed = parse_json(raw)
                body = check_body(declared.model, parsed, code=declared.error_code,
                                  root=declared.root, unnest=declared.unnest)
        return Call(request, request.path_params, query, body, parsed)


@dataclass(frozen=True, slots=True)
class Call:
    """A request that fits its operation: ``query`` and ``body`` are the models' instances,
    ``json`` the body as parsed (for the service layer, which takes plain JSON)."""

    request: Request
    path: Mapping[str, str]
    query: Any
    body: Any
    json: Any
    deferred: Operation | None = None  # the operation whose body is still to be read

    async def with_body(self) -> Call:
        """This call with its body read and checked (for a ``deferred_body`` operation)."""
        if self.deferred is None:
            return self
        return await self.deferred.bind_body(self.request, self.query)


Handler = Callable[[Call], Awaitable[Response]]


def reply(status: int, description: str, model: Any = ErrorBody) -> Reply:
    """A documented response; errors (the default model) share the one ``ErrorBody`` shape."""
    return Reply(status, description, model)


@dataclass
class RestApi:
    """The operations of the REST API with their handlers, in registration order."""

    entries: list[tuple[Operation, Handler]] = field(default_factory=list)

    @property
    def operations(self) -> list[Operation]:
        return [operation for operation, _ in self.entries]

    def add(self, operation: Operation, handler: Handler) -> None:
        if operation.operation_id not in REST:  # no route without a permission
            raise ValueError(f"{operation.operation_id} has no entry in the permission table "
                             "(caxton.security.permissions.REST)")
        for known, _ in self.entries:
            if (known.method, known.path) == (operation.method, operation.path):
                raise ValueError(f"{operation.method} {operation.path} is declared twice")
        self.entries.append((operation, handler))

    def operation(self, method: str, path: str, **declaration: Any
                  ) -> Callable[[Handler], Handler]:
        """Declare an operation on its handler: ``@api.operation("GET", "/x", ...)``."""

        def register(handler: Handler) -> Handler:
            self.add(Operation(method, path, **declaration), handler)
            return handler

        return register

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, tuple[Operation, Handler]]] = {}
        for operation, handler in self.entries:
            by_path.setdefault(operation.path, {})[operation.method] = (operation, handler)
        return [Route(path, _endpoint(methods), methods=list(methods))
                for path, methods in by_path.items()]


def _endpoint(methods: dict[str, tuple[Operation, Handler]]
              ) -> Callable[[Request], Awaitable[Response]]:
    """One path's endpoint: the route has already answered methods it does not list (405)."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        operation, handler = methods[method]
        try:
            _authorize(request, operation)
            return await handler(await operation.bind(request))
        except Exception:
            if operation.bodies and not getattr(request.state, "body_read", False):
                await _discard_body(request)  # refused before its body was read (say, 415)
            raise

    return endpoint


def _authorize(request: Request, operation: Operation) -> None:
    """The permission table's check (the guard in front has authenticated the caller)."""
    permission = REST[operation.operation_id]
    target = REST_TARGETS.get(operation.operation_id)
    agent = request.path_params.get(target) if target else None
    request.scope["caxton.operation"] = operation.operation_id
    if agent is not None:
        request.scope["caxton.target"] = agent
    if permission is not Permission.open:
        require(permission, agent)


async def _discard_body(request: Request) -> None:
    """Read (and drop) a small unread body before refusing the request: a server that closes
    a connection with unread bytes in it resets it, and the client may lose the answer. A
    large one is left unread: the connection is closed after the answer instead."""
    declared = request.headers.get("content-length", "")
    if not declared.isascii() or not declared.isdigit() or int(declared) > _DISCARD_LIMIT:
        return
    read = 0
    with contextlib.suppress(Exception):  # the client went away, or the stream was read
        async for chunk in request.stream():
            read += len(chunk)
            if read > _DISCARD_LIMIT:
                return
