"""Global throughput per kind (JOB_RATE_LIMITS_PER_S), shared by every worker through Redis."""

from __future__ import annotations

import time
from functools import cache

from django.conf import settings
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from processing.lib.redis import get_redis


@cache
def _limiter(kind: str, per_second: int) -> WindowRateLimiter:
    backend = RedisBackend(client=get_redis())
    return WindowRateLimiter(backend, f"darkroom:rate:{kind}", limit=per_second, window=1)


def acquire_slot(kind: str, *, wait_s: float = 2.0) -> bool:
    """Take one start of `kind` within its per-second limit, waiting up to wait_s for one."""
    per_second = settings.JOB_RATE_LIMITS_PER_S.get(kind)
    if not per_second:
        return True
    limiter = _limiter(kind, per_second)
    deadline = time.monotonic() + wait_s
    while True:
        with limiter.acquire(raise_on_failure=False) as acquired:
            if acquired:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.05, 1 / per_second))


def acquire_slots(kinds: list[str], *, wait_s: float = 2.0) -> str | None:
    """Take one start of each of `kinds` (a pipeline's steps: ten remove_bg steps take ten
    remove_bg starts), waiting up to wait_s in all. Returns the kind that had no slot, or None."""
    deadline = time.monotonic() + wait_s
    for kind in kinds:
        if not acquire_slot(kind, wait_s=max(0.0, deadline - time.monotonic())):
            return kind
    return None
