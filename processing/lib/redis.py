"""The one synchronous Redis client: the cache's connection pool (django-redis), whose timeouts
and health checks are set in CACHES. Async code (event streams) uses redis.asyncio on the same URL."""

import redis
from django_redis import get_redis_connection


def get_redis() -> redis.Redis:
    client: redis.Redis = get_redis_connection("default")
    return client
