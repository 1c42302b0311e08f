"""Under ASGI every open event stream of a web process shares one Redis pub/sub connection (the
hub): 25 streams of 25 jobs are one Redis client subscribed to 25 channels, not 25 clients, and
a notice on one channel wakes only its stream."""

import asyncio
import uuid

import redis
from django.conf import settings

from processing.api.events import hub as hub_module
from processing.api.events.stream import Snapshot, async_frames
from processing.jobs.events import job_channel

STREAMS = 25


def hub_clients() -> list[dict]:
    """The hub's connections, as Redis lists them (CLIENT LIST)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    return [c for c in client.client_list() if c.get("name") == hub_module.client_name() and int(c["db"]) == db]


def test_many_streams_share_one_pubsub_connection(settings):
    settings.EVENTS_REREAD_S = 30  # only a notice wakes a stream during the test
    settings.EVENTS_HEARTBEAT_S = 30
    channels = [job_channel(uuid.uuid4()) for _ in range(STREAMS)]
    reads = dict.fromkeys(channels, 0)
    released = []

    def reader(channel):
        def read():
            reads[channel] += 1
            return Snapshot("job", {"id": channel, "read": reads[channel]}, finished=False)

        return read

    async def scenario():
        streams = [async_frames(channel=c, read=reader(c), release=lambda c=c: released.append(c)) for c in channels]
        for stream in streams:
            assert (await anext(stream)).startswith(b"retry:")
            assert b"event: job" in await anext(stream)  # open, subscribed and following

        opened = await asyncio.to_thread(hub_clients)
        assert len(opened) == 1, opened
        assert int(opened[0]["sub"]) == STREAMS  # one connection, every stream's channel

        publisher = redis.Redis.from_url(settings.REDIS_URL)
        await asyncio.to_thread(publisher.publish, channels[3], "progress")
        woken = await asyncio.wait_for(anext(streams[3]), timeout=5)
        assert b'"read":2' in woken
        assert all(reads[c] == 1 for i, c in enumerate(channels) if i != 3)  # the others slept

        for stream in streams:
            await stream.aclose()
        left = await asyncio.to_thread(hub_clients)
        assert len(left) <= 1 and all(int(c["sub"]) == 0 for c in left)

    asyncio.run(scenario())
    assert sorted(released) == sorted(channels)
