"""The one synchronous Redis client: the cache's connection pool (django-redis), whose timeouts
and health checks are set in CACHES. Async code (event streams) uses redis.asyncio on the same URL."""

import logging
import time

import redis
from django_redis import get_redis_connection


def get_redis() -> redis.Redis:
    client: redis.Redis = get_redis_connection("default")
    return client


# What redis-py (sync and asyncio) raises when the server is not there: refused, reset, loading its
# data after a restart (BusyLoadingError is a ConnectionError), or not answering in time.
AWAY = (redis.ConnectionError, redis.TimeoutError)


def traceback_unless_away(exc: BaseException) -> BaseException | None:
    """exc_info for a WARNING that names the exception: none when Redis is only away (restarting,
    unreachable; the message says what happened), the traceback for anything else."""
    return None if isinstance(exc, AWAY) else exc


class OutageNotice:
    """For a loop that runs every tick: Redis not answering is one WARNING, without a traceback,
    when it starts and one INFO when it answers again (a restart is a line each way, not an
    ERROR with a traceback every second). Anything else stays the caller's to log."""

    def __init__(self, logger: logging.Logger, what: str):
        self.logger, self.what = logger, what
        self.since: float | None = None

    def failed(self, exc: BaseException) -> bool:
        """True when `exc` is Redis away (noted here); False for the caller to log."""
        if not isinstance(exc, AWAY):
            return False
        if self.since is None:
            self.since = time.monotonic()
            self.logger.warning("%s: Redis does not answer (%s); trying again every tick", self.what, exc)
        return True

    def ok(self) -> None:
        if self.since is not None:
            self.logger.info("%s: Redis answers again after %.0f s", self.what, time.monotonic() - self.since)
            self.since = None
