"""A streaming response that serves an async generator under ASGI and a plain one under WSGI.

Django 5.2 serves a StreamingHttpResponse built on an async iterator under WSGI by consuming
the whole iterator first (with a warning), so an event stream would never reach the client.
This response is built on the plain generator (what WSGI servers, the test client and
middleware iterate), and hands the ASGI handler, which iterates with `async for`, the async one
instead. A generator's body runs only once iterated, so the one not used never starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from django.http import StreamingHttpResponse


class EventStreamResponse(StreamingHttpResponse):
    def __init__(self, *, sync_stream: Iterator[bytes], async_stream: AsyncIterator[bytes], **kwargs):
        super().__init__(streaming_content=sync_stream, content_type="text/event-stream", **kwargs)
        self._async_stream = async_stream
        self.headers["Cache-Control"] = "no-cache"
        self.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The ASGI handler wraps this in aclosing(), which closes the generator on disconnect.
        return self._async_stream
