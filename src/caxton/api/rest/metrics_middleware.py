"""ASGI middleware that counts and times API requests by route template (not raw path, which
would give every agent name its own time series)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caxton.telemetry.metrics import Metrics


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics,
                 paths: dict[Callable[..., Any], str]) -> None:
        self._app = app
        self._metrics = metrics
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            # The router wrote the matched endpoint into the scope on the way in.
            route = self._paths.get(scope.get("endpoint"), "unmatched")  # type: ignore[arg-type]
            self._metrics.api_request(scope["method"], route, status,
                                      time.perf_counter() - started)
