import pytest
import redis
from django.conf import settings

from tests.worker import WorkerProcess


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """One real Dramatiq worker process for the e2e tests, on the real Redis and the test database."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    process = WorkerProcess(threads=2).start()
    yield process
    process.stop()
