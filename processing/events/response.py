"""A streaming response that serves an async generator under ASGI and a plain one under WSGI.

Django 5.2 serves a StreamingHttpResponse built on an async iterator under WSGI by consuming
the whole iterator first (with a warning) — an event stream would never reach the client. So
this response keeps both: the ASGI handler iterates it with `async for` (`__aiter__`), the WSGI
server with `for` (`__iter__`), and each gets its own generator, created only when asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from django.http import StreamingHttpResponse


class EventStreamResponse(StreamingHttpResponse):
    def __init__(
        self,
        *,
        sync_stream: Callable[[], Iterator[bytes]],
        async_stream: Callable[[], AsyncIterator[bytes]],
        **kwargs,
    ):
        super().__init__(streaming_content=(), content_type="text/event-stream", **kwargs)
        self._sync_stream = sync_stream
        self._async_stream = async_stream
        self.headers["Cache-Control"] = "no-cache"
        self.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once

    def __iter__(self) -> Iterator[bytes]:
        stream = self._sync_stream()
        self._resource_closers.append(stream.close)  # the WSGI server closes us on disconnect
        return stream

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The ASGI handler wraps this in aclosing(), which closes the generator on disconnect.
        return self._async_stream()
