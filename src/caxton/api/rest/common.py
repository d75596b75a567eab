"""Shared pieces of the REST layer: JSON responses, the error body, bounded body reading."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error(status: int, code: str, message: str, **extra: Any) -> JSON:
    return JSON({"code": code, "message": message, **extra}, status_code=status)


class RequestError(Exception):
    """A request the REST layer refuses before the service sees it; ``field`` names the part
    at fault (a query parameter or a body field's path) when there is one."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None
                 ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> JSON:
        extra = {"field": self.field} if self.field is not None else {}
        return error(self.status, self.code, self.message, **extra)


async def read_buffer(request: Request, limit: int) -> bytearray:
    """The request body, refused (413) as soon as it is known to exceed ``limit``: from its
    declared length before reading anything, else at the first chunk past the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, "payload_too_large",
                         f"request body of {declared} bytes exceeds the limit of {limit}")
    body = bytearray()  # grows in place: no list of chunks to join (a second copy)
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise RequestError(413, "payload_too_large",
                               f"request body exceeds the limit of {limit}")
        body += chunk
    return body


async def read_body(request: Request, limit: int) -> bytes:
    return bytes(await read_buffer(request, limit))
