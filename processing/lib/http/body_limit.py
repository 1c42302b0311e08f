"""An ASGI middleware that refuses request bodies over a limit before the app reads them.

Django's ASGI handler spools a whole body to disk before routing or authentication, so a
too-large upload would cost disk and time even when it is refused later. This answers 413 at
once when Content-Length is over the limit, and stops reading a chunked body once it is. A JSON
body (`application/json`, `*/*+json`) may have a limit of its own, lower: parsing it builds
objects many times its size."""

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
    def __init__(self, app: App, *, max_bytes: Callable[[], int], json_max_bytes: Callable[[], int] | None = None):
        self.app = app
        self.max_bytes = max_bytes  # read per request, so a deploy (or a test) can change it
        self.json_max_bytes = json_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_limit = limit = self.max_bytes()
        if self.json_max_bytes is not None and _is_json(scope):
            limit = min(limit, self.json_max_bytes())
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared <= request_limit:  # a JSON body over its own limit: read and dropped
                await _drain(receive, up_to=request_limit)
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
                await _drain(receive, up_to=request_limit - received)
                await _refuse(send, limit)


async def _drain(receive: Receive, *, up_to: int) -> None:
    """Read the rest of a body and drop it, chunk by chunk, while it stays within `up_to` bytes:
    a client still sending a body a little over a limit (a JSON body over JSON_BODY_MAX_BYTES)
    then reads the 413 instead of a connection reset mid-send. Beyond, the answer goes at once."""
    dropped = 0
    while dropped <= up_to:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            media_type = value.split(b";")[0].strip().lower()
            return bool(media_type == b"application/json" or media_type.endswith(b"+json"))
    return False


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
