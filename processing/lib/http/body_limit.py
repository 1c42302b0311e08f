"""An ASGI middleware that refuses request bodies over a limit before the app reads them.

Django's ASGI handler spools a whole body to disk before routing or authentication, so a
too-large upload would cost disk and time even when it is refused later. This answers 413 at
once when Content-Length is over the limit, and stops reading a chunked body once it is."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from processing.lib.problems import MEDIA_TYPE, problem

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


class RequestBodyLimit:
    def __init__(self, app: App, *, max_bytes: Callable[[], int]):
        self.app = app
        self.max_bytes = max_bytes  # read per request, so a deploy (or a test) can change it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send, limit)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    message = f"the request body is over the limit of {limit} bytes"
    body = json.dumps(problem(code="too_large", detail=message, status=413)).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
