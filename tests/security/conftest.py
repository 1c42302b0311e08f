import pytest
import redis
from django.conf import settings


@pytest.fixture(autouse=True)
def fresh_quotas():
    """Quota counters and rate-limit windows live in Redis: start every test from zero."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
