import dramatiq
import pytest
import redis
from django.conf import settings

from tests.support.queues import ISOLATED_QUEUE
from tests.worker import WorkerProcess


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """One real Dramatiq worker process for the e2e tests, on the real Redis and the test database."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    import processing.tasks  # noqa: F401  (declares every actor's queue)

    queues = sorted(set(dramatiq.get_broker().get_declared_queues()) - {ISOLATED_QUEUE})
    process = WorkerProcess(threads=2, queues=queues).start()
    yield process
    process.stop()
