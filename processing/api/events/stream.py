"""Server-Sent Events of one job or one batch, until it ends.

A stream subscribes to its channel first, then reads the row, and reads it again whenever a
notice arrives or EVENTS_REREAD_S passes (the safety net for a lost notice or a change made
outside the services). It sends an event only when what the API shows has changed, a comment
line when it has been quiet for EVENTS_HEARTBEAT_S (so proxies keep the connection), and `end`
with the final payload when the job or batch is finished. A stream lives at most
EVENTS_MAX_STREAM_S; then it closes without `end`, and the client reconnects (EventSource does
so by itself, after the `retry` it was given).

The same loop runs as an async generator under ASGI (waiting on the web process's one shared
pub/sub connection, hub.py, so an open stream holds no thread and no Redis connection) and as a
plain generator under WSGI (runserver, live_server). Either frees the vendor's stream slot
(slots.py) when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from rest_framework.utils.encoders import JSONEncoder

from processing.api.events.hub import hub
from processing.jobs import events, selectors
from processing.jobs.events import batch_channel, job_channel
from processing.jobs.representation import batch_representation, job_representation
from processing.jobs.states import FINISHED
from processing.lib.redis import get_redis


@dataclass(frozen=True)
class Snapshot:
    event: str  # "job" or "batch"
    data: dict
    finished: bool


def frame(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, cls=JSONEncoder, separators=(',', ':'))}\n\n".encode()


HEARTBEAT_FRAME = b": keepalive\n\n"


def job_snapshot_reader(*, vendor, job_id: uuid.UUID, request=None) -> Callable[[], Snapshot]:
    def read() -> Snapshot:
        job = selectors.job_get(vendor=vendor, job_id=job_id)
        if job is None:  # removed while watched (retention, vendor deleted)
            return Snapshot("job", {"id": str(job_id), "state": "gone"}, finished=True)
        absolute = request.build_absolute_uri if request is not None else None
        return Snapshot("job", job_representation(job, absolute=absolute), job.state in FINISHED)

    return read


def batch_snapshot_reader(*, vendor, batch_id: uuid.UUID) -> Callable[[], Snapshot]:
    def read() -> Snapshot:
        batch = selectors.batch_get(vendor=vendor, batch_id=batch_id)
        if batch is None:
            return Snapshot("batch", {"id": str(batch_id), "state": "gone"}, finished=True)
        finished = batch.finished_at is not None
        return Snapshot("batch", {**batch_representation(batch), "finished": finished}, finished)

    return read


def listening_read(read: Callable[[], Snapshot], *, vendor_id: int) -> Callable[[], Snapshot]:
    """`read`, which also tells the workers, before the first read and then at most every
    LISTENING_TTL_S / 3, that a stream of the vendor is open (jobs/events.py): they send its
    jobs' notices only while one is."""
    marked_at = [-float("inf")]

    def read_listening() -> Snapshot:
        if time.monotonic() - marked_at[0] >= events.LISTENING_TTL_S / 3:
            events.listening_mark(vendor_id=vendor_id)
            marked_at[0] = time.monotonic()
        return read()

    return read_listening


def _fresh_read(read: Callable[[], Snapshot]) -> Snapshot:
    # A stream outlives many reads: drop a connection the server closed or that outlived
    # CONN_MAX_AGE. Never inside a transaction (a test's), which closing would break.
    if not connection.in_atomic_block:
        close_old_connections()
    return read()


@dataclass
class StreamState:
    """What the stream has sent, and so what the next read should produce."""

    reread_s: float
    heartbeat_s: float
    last_data: dict | None = None
    last_sent_at: float = field(default_factory=time.monotonic)
    done: bool = False
    ends_at: float = float("inf")

    @property
    def over(self) -> bool:
        """Finished, or lived its longest: either way the stream closes."""
        return self.done or time.monotonic() >= self.ends_at

    def frames_for(self, snapshot: Snapshot) -> list[bytes]:
        frames = []
        if snapshot.finished:
            self.done = True
            frames.append(frame("end", snapshot.data))
        elif snapshot.data != self.last_data:
            frames.append(frame(snapshot.event, snapshot.data))
        elif time.monotonic() - self.last_sent_at >= self.heartbeat_s:
            frames.append(HEARTBEAT_FRAME)
        if frames:
            self.last_data = snapshot.data
            self.last_sent_at = time.monotonic()
        return frames

    def wait_s(self) -> float:
        until_heartbeat = self.heartbeat_s - (time.monotonic() - self.last_sent_at)
        return max(0.05, min(self.reread_s, until_heartbeat, self.ends_at - time.monotonic()))


def _new_state() -> StreamState:
    return StreamState(
        reread_s=settings.EVENTS_REREAD_S,
        heartbeat_s=settings.EVENTS_HEARTBEAT_S,
        ends_at=time.monotonic() + settings.EVENTS_MAX_STREAM_S,
    )


def _retry_frame(state: StreamState) -> bytes:
    return f"retry: {int(state.reread_s * 1000)}\n\n".encode()


def sync_frames(*, channel: str, read: Callable[[], Snapshot], release: Callable[[], None]) -> Iterator[bytes]:
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
        state = _new_state()
        yield _retry_frame(state)
        yield from state.frames_for(_fresh_read(read))
        while not state.over:
            if pubsub.get_message(timeout=state.wait_s()):
                while pubsub.get_message(timeout=0):  # a burst of progress notices: one read
                    pass
            yield from state.frames_for(_fresh_read(read))
    finally:
        pubsub.close()
        release()


async def async_frames(
    *, channel: str, read: Callable[[], Snapshot], release: Callable[[], None]
) -> AsyncIterator[bytes]:
    notices = hub()
    # Reads go to the shared executor, not the request's own thread: a few DB connections
    # serve every open stream.
    aread = sync_to_async(_fresh_read, thread_sensitive=False)
    woken = None
    try:
        woken = await notices.subscribe(channel)
        state = _new_state()
        yield _retry_frame(state)
        for part in state.frames_for(await aread(read)):
            yield part
        while not state.over:
            with contextlib.suppress(TimeoutError):  # a burst of progress notices: one read
                await asyncio.wait_for(woken.wait(), timeout=state.wait_s())
            woken.clear()
            for part in state.frames_for(await aread(read)):
                yield part
    finally:
        if woken is not None:
            await notices.unsubscribe(channel, woken)
        await sync_to_async(release, thread_sensitive=False)()


def channel_for(*, job_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None) -> str:
    return job_channel(job_id) if job_id else batch_channel(batch_id)
