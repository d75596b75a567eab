"""The API edge's event loop and HTTP protocol, chosen from the configuration (for
``server.py``, the composition root)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from caxton.api.rest.http_protocol import guarded_protocol
from caxton.config import ServerConfig

log = structlog.get_logger("caxton.server")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the APIs run on: uvloop's by default (its transports and callbacks are
    C; a REST or gRPC send-and-wait costs less of the one core the GIL leaves the loop)."""
    if name == "uvloop":
        try:
            import uvloop  # noqa: PLC0415 - only when chosen
        except ImportError:  # not built for this platform
            log.warning("uvloop is not installed; running on asyncio's event loop")
            return None
        return uvloop.new_event_loop
    return None  # asyncio's own


def http_protocol(config: ServerConfig) -> type[asyncio.Protocol]:
    """The REST listener's protocol class: uvicorn's, with our limits (api/rest)."""
    if config.http_parser == "httptools":
        from caxton.api.rest.httptools_protocol import (  # noqa: PLC0415 - only when chosen
            guarded_protocol as guarded_httptools,
        )

        return guarded_httptools(header_timeout_s=config.http_header_timeout_s,
                                 max_connections=config.max_connections)
    return guarded_protocol(header_timeout_s=config.http_header_timeout_s,
                            max_connections=config.max_connections)
