import io
import time

import dramatiq
import pytest
import redis
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import make_member, make_vendor
from tests.support.queues import ISOLATED_QUEUE
from tests.worker import WorkerProcess

# asgi_server: a real uvicorn process on config.asgi.
pytest_plugins = ["tests.support.asgi"]


def pytest_report_header(config):
    """Says which database server the suite runs on (CI runs it on MariaDB)."""
    db = settings.DATABASES["default"]
    try:
        # Straight through the driver: pytest-django blocks Django's connections at this point.
        import MySQLdb

        server = MySQLdb.connect(
            host=db.get("HOST") or "127.0.0.1", port=int(db.get("PORT") or 3306), user=db["USER"], passwd=db["PASSWORD"]
        )
        version = server.get_server_info()
        server.close()
    except Exception as exc:  # the run will fail on its own; the header only reports
        version = f"unreachable ({exc})"
    server = "MariaDB" if "mariadb" in version.lower() else connection.vendor
    return [
        f"darkroom database: {server} {version} at {db.get('HOST') or 'localhost'}:{db.get('PORT')}",
        f"darkroom redis: {settings.REDIS_URL}",
    ]


QUARTER_HOUR_S = 900  # every quota window (15 min, 1 h) starts on a quarter hour


@pytest.fixture(autouse=True)
def _away_from_a_quota_window_edge():
    """Quotas count in fixed windows aligned to the clock, so a test that straddles a window's
    start would see two windows' worth admitted. Each test starts well inside one window."""
    left = QUARTER_HOUR_S - time.time() % QUARTER_HOUR_S
    if left < 20:
        time.sleep(left + 0.5)


@pytest.fixture
def http(live_server):
    """An integrator's HTTP client on the live server, with the token of acme's owner."""
    import httpx

    from vendors.services import api_token_for

    owner = make_member(make_vendor("acme"), "acme-owner", role="owner")
    headers = {"Authorization": f"Token {api_token_for(user=owner)}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def vendor(db):
    return make_vendor("acme")


@pytest.fixture
def owner(vendor):
    return make_member(vendor, "acme-owner", role="owner")


@pytest.fixture
def member(vendor):
    return make_member(vendor, "acme-member", role="member")


@pytest.fixture
def outsider(db):
    other = make_vendor("globex")
    return make_member(other, "globex-owner", role="owner")


def client_for(user) -> APIClient:
    from vendors.services import api_token_for

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user=user)}")
    return client


def jpeg_bytes(array) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """The one real Dramatiq worker process that e2e tests share (a session fixture defined here
    only, so a whole run has exactly one), on the real Redis and the test database. It consumes
    every queue but the isolated one, which tests that run their own workers use."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    import processing.engine.tasks  # noqa: F401  (declares every actor's queue)

    queues = sorted(set(dramatiq.get_broker().get_declared_queues()) - {ISOLATED_QUEUE})
    process = WorkerProcess(threads=2, queues=queues).start()
    yield process
    process.stop()


@pytest.fixture
def redis_down(settings):
    """Redis as every part of Darkroom sees it (the cache's pool, REDIS_URL) points at a port
    where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = url
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": url}}
    return url
