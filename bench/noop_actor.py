"""The anchor of the drain bench: Dramatiq alone, a no-op actor on the broker Darkroom uses
(same Redis, namespace, threads, prefetch, poll interval). It counts its messages in Redis so
the bench knows when they are done: one INCR, the least a message can do and be seen.

    dramatiq bench.noop_actor --processes 1 --threads 2
"""

import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
COUNTER = "bench:noop:done"

broker = RedisBroker(url=URL, namespace="darkroom-bench")
dramatiq.set_broker(broker)
counter = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name="bench_noop", max_retries=0)
def noop() -> None:
    counter.incr(COUNTER)
