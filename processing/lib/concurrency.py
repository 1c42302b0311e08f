"""Limits every worker shares through Redis, per named destination (an AI endpoint): how many
calls may be under way at once (a semaphore whose slots expire, so a worker that died does not
hold one for ever) and how many may start per second."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from processing.lib.errors import TemporaryError
from processing.lib.redis import get_redis

_PREFIX = "darkroom:concurrency:"
# Expired slots are dropped, then one is taken if fewer than `limit` are held. Redis's own clock:
# workers on several machines agree on it.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
  return 1
end
return 0
"""
POLL_S = 0.05


@contextmanager
def concurrency_slot(name: str, *, limit: int, hold_s: float, wait_s: float) -> Iterator[None]:
    """Hold one of `limit` slots of `name` for the block (at most hold_s: then it expires),
    waiting up to wait_s for one; TemporaryError (code `busy`) when none came free."""
    redis = get_redis()
    key, token = f"{_PREFIX}{name}", uuid.uuid4().hex
    deadline = time.monotonic() + wait_s
    while not redis.eval(_ACQUIRE, 1, key, limit, hold_s, token):
        if time.monotonic() >= deadline:
            raise TemporaryError(
                f"{name} already has {limit} calls under way", code="busy", retry_after_s=max(1.0, wait_s)
            )
        time.sleep(POLL_S)
    try:
        yield
    finally:
        redis.zrem(key, token)


def rate_slot(name: str, *, per_s: float, wait_s: float) -> None:
    """Take one start within `per_s` starts per second of `name`, waiting up to wait_s; else
    TemporaryError (code `busy`)."""
    redis = get_redis()
    deadline = time.monotonic() + wait_s
    while True:
        second = int(time.time())
        key = f"{_PREFIX}{name}:rate:{second}"
        with redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, 5)
            taken, _ = pipe.execute()
        if taken <= per_s:
            return
        if time.monotonic() >= deadline:
            raise TemporaryError(f"{name} is at its rate of {per_s:g} calls per second", code="busy", retry_after_s=1)
        time.sleep(max(POLL_S, second + 1 - time.time()))
