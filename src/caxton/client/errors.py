"""Turning a failed gRPC call into the Caxton error the server raised.

A Caxton server attaches its error's code to every failed call (see
``caxton.api.grpc.status``), so the client raises the same class from ``caxton.errors``:
``except AgentNotFoundError`` works the same in-process, over gRPC, or in the server. Failures
that never reached Caxton (no connection, the client's own deadline) get their own meaning here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import grpc

from caxton.api.grpc.status import details_of, to_error
from caxton.errors import CaxtonError, PayloadTooLargeError, ReplyTimeoutError


class ServerUnreachableError(CaxtonError):
    """No connection to the server: it is not running, or the target is wrong."""

    code = "unreachable"


def translate(code: grpc.StatusCode, details: str | None,
              trailing_metadata: Iterable[tuple[str, str | bytes]] | None,
              target: str) -> CaxtonError:
    """The error to raise for a call that ended with ``code``."""
    status = details_of(trailing_metadata)
    if status is not None:
        error = to_error(status)
        if error is not None:
            return error
    text = details or code.name
    if code is grpc.StatusCode.UNAVAILABLE:
        return ServerUnreachableError(f"cannot reach the Caxton server at {target}: {text}")
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return ReplyTimeoutError(f"the server at {target} did not answer in time")
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:  # gRPC's own message size limit
        return PayloadTooLargeError(text)
    return CaxtonError(f"{code.name}: {text}")


def from_rpc_error(error: grpc.RpcError, target: str) -> CaxtonError:
    """``translate`` for the exception a failed call raised.

    Both grpcio's blocking calls and grpc.aio raise an exception that is also the call: it
    answers ``code()``, ``details()`` and ``trailing_metadata()``.
    """
    call = cast(Any, error)
    if not callable(getattr(call, "code", None)):
        return CaxtonError(f"gRPC call failed: {error}")
    return translate(call.code(), call.details(), call.trailing_metadata(), target)
