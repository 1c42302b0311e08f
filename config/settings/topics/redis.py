"""Redis: the cache's connection pool, which the broker's URL shares."""

from config.env import env

# --- Redis: broker and cache.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="darkroom"),
        "OPTIONS": {
            # Short timeouts: a Redis outage must not hold up a request or a worker for long.
            "CONNECTION_POOL_KWARGS": {"health_check_interval": 30, "socket_connect_timeout": 2, "socket_timeout": 5},
        },
    }
}
