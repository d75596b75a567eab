"""Shared pieces of the REST layer: JSON responses, bounded body reading, query parameters."""

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
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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


async def read_json(request: Request, limit: int) -> Any:
    body = await read_buffer(request, limit)  # orjson parses the buffer as it is
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, "malformed_json",
                           f"request body is not valid JSON: {exc}") from None


def float_param(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RequestError(400, "invalid_parameter", f"query parameter '{name}' must be a number"
                         ) from None


def int_param(request: Request, name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    raw = request.query_params.get(name, str(default))
    # isascii: str.isdigit() also accepts digits like '²' that int() refuses (a 500 before)
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise RequestError(400, "invalid_parameter",
                         f"query parameter '{name}' must be an integer from {low} to {high}")
    return int(raw)


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("1", "true", "yes", "0", "false", "no"):
        raise RequestError(400, "invalid_parameter",
                           f"query parameter '{name}' must be true or false")
    return raw in ("1", "true", "yes")
