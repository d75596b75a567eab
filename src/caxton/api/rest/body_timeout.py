"""An idle timeout on request bodies: a client that stops sending in the middle gets 408.

Only a wait the application makes for the *next piece of the body* is timed: once the body is
complete, ``receive`` waits for a disconnect (as streaming responses do) without a limit. A
wait that only lasts because the application is not reading yet (a deploy waiting for its slot)
is not timed either, as no ``receive`` is pending then.

An answer that starts before the body is in (a 413 from the declared length, a refusal) says
``Connection: close``: the server will not read the rest, so a keep-alive client must not send
its next request on that connection.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caxton.api.rest.common import RequestError


class BodyTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                # A timer on this task, not wait_for's extra task: most bodies are in already.
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise RequestError(408, "request_timeout", f"the request body stalled: nothing "
                                   f"received for {self.seconds:g}s") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        headers = dict(scope["headers"])
        has_body = headers.get(b"content-length", b"0") not in (b"0", b"") \
            or b"transfer-encoding" in headers

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and has_body and not body_done:
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, timed_receive, closing_send)
