"""One Redis pub/sub connection per web process (per event loop) for every open stream.

Each stream used to hold its own connection, so thousands of streams were thousands of Redis
clients. The hub subscribes a channel once, however many streams follow it, and wakes each of
them (an asyncio.Event) when a notice arrives. If the connection fails, streams keep going on
their periodic re-reads, and the next subscription opens a new connection."""

from __future__ import annotations

import asyncio
import logging
import os
import weakref

import redis.asyncio
from django.conf import settings

from processing.lib.redis import traceback_unless_away

logger = logging.getLogger(__name__)


def client_name() -> str:
    """How the hub's connection shows in Redis's CLIENT LIST: one per web process."""
    return f"darkroom-events-{os.getpid()}"


class PubSubHub:
    def __init__(self):
        self._client: redis.asyncio.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._lock = asyncio.Lock()

    async def subscribe(self, channel: str) -> asyncio.Event:
        """An event set whenever a notice arrives on `channel` (clear it after waking)."""
        woken = asyncio.Event()
        async with self._lock:
            await self._connect()
            if channel not in self._waiters:
                self._waiters[channel] = set()
                await self._pubsub.subscribe(channel)
            self._waiters[channel].add(woken)
            if self._reader is None or self._reader.done():  # only once subscribed: it reads that connection
                self._reader = asyncio.create_task(self._read(self._pubsub))
        return woken

    async def unsubscribe(self, channel: str, woken: asyncio.Event) -> None:
        async with self._lock:
            waiters = self._waiters.get(channel)
            if waiters is None:
                return
            waiters.discard(woken)
            if not waiters:
                del self._waiters[channel]
                if self._reader is not None and not self._reader.done():
                    await self._pubsub.unsubscribe(channel)

    async def _connect(self) -> None:
        if self._pubsub is not None and self._reader is not None and not self._reader.done():
            return
        if self._client is not None:
            await self._client.aclose()
        self._client = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, client_name=client_name()
        )
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        if self._waiters:  # after a failure: follow again what open streams follow
            await self._pubsub.subscribe(*self._waiters)

    async def _read(self, pubsub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    if not pubsub.subscribed:
                        await asyncio.sleep(0.05)
                    continue
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                for woken in self._waiters.get(channel, ()):
                    woken.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning(
                "event notices: the shared Redis connection failed (%r); streams fall back to re-reads",
                exc,
                exc_info=traceback_unless_away(exc),
            )


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PubSubHub] = weakref.WeakKeyDictionary()


def hub() -> PubSubHub:
    """The hub of the running event loop (one per web process under uvicorn)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = PubSubHub()
    return _hubs[loop]
