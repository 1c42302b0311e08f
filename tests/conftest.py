import os
import time
from pathlib import Path

import dramatiq
import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from skimage import data as samples

from tests.factories import make_member, make_vendor
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.support.clients import token_headers
from tests.support.flush import retry_flushes_chosen_as_deadlock_victims
from tests.support.loopback import LoopbackServer, Route, free_port
from tests.support.photos import REMBG_HOME_CANDIDATES, jpeg_bytes
from tests.support.queues import ISOLATED_QUEUE
from tests.support.row_locks import server_connection
from tests.worker import WorkerProcess
from vendors import quotas

# asgi_server: a real uvicorn process on config.asgi.
pytest_plugins = ["tests.support.asgi", "tests.support.s3"]


def pytest_configure(config):
    retry_flushes_chosen_as_deadlock_victims()
    media_through_darkroom_on_the_live_server()


def media_through_darkroom_on_the_live_server():
    """Django's live server answers MEDIA_URL from MEDIA_ROOT itself, to anyone, before the URL
    conf is reached: a test there would fetch media no deployment serves. Darkroom's own media
    view (the access checks of docs/data.md) answers instead."""
    from django.test.testcases import _MediaFilesHandler

    _MediaFilesHandler._should_handle = lambda self, path: False


def pytest_report_header(config):
    """Says which database server the suite runs on (CI runs it on MariaDB)."""
    db = settings.DATABASES["default"]
    try:
        # Straight through the driver: pytest-django blocks Django's connections at this point.
        server = server_connection(to_test_database=False)
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


# Accounts: acme (its owner and a member), an outsider at globex, the operator.


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


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("operator", "operator@example.com", "pw-operator")


@pytest.fixture
def staff(client, superuser):
    """An operator's browser session in the admin."""
    client.force_login(superuser)
    return client


# Clients: anonymous API, an integrator's HTTP client on the live server, portal sessions.


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def http(live_server, owner):
    """An integrator's HTTP client on the live server, with the token of acme's owner."""
    import httpx

    with httpx.Client(base_url=live_server.url, headers=token_headers(owner), timeout=10) as client:
        yield client


@pytest.fixture
def browser_for():
    """browser_for(user): a web browser's session, signed in as `user`."""

    def signed_in(user) -> Client:
        browser = Client()
        browser.force_login(user)
        return browser

    return signed_in


# Redis: emptied, or out of reach.

# The API, client, data, portal and security tests count quotas and rate limits: each starts from empty counters.
FRESH_COUNTERS = [Path(__file__).parent / name for name in ("api", "clients", "data", "portal", "security")]


@pytest.fixture(autouse=True)
def _fresh_counters(request):
    """clean_redis for every test under FRESH_COUNTERS."""
    if any(request.node.path.is_relative_to(folder) for folder in FRESH_COUNTERS):
        request.getfixturevalue("clean_redis")


@pytest.fixture
def clean_redis(request):
    """This run's own Redis database (TEST_REDIS_URL), emptied so queues, quota counters and
    worker records start at zero. Tests with the shared worker lose only the quota counters: the
    worker's queues live in the same database."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clean() -> None:
        if "worker" not in request.fixturenames:
            client.flushdb()
        else:
            client.delete(*client.scan_iter(match=f"{quotas.KEY_PREFIX}:*", count=1000), "__none__")

    clean()
    yield client
    clean()


@pytest.fixture
def redis_down(settings):
    """Redis as every part of Darkroom sees it (the cache's pool, REDIS_URL) points at a port
    where nothing listens."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": url}}
    return url


# The shared Dramatiq worker of the e2e tests.


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


# Outbound HTTP: servers on loopback, or requests recorded instead of sent.

# The e2e worker's AI_ENDPOINTS (config/settings/test.py) points its "e2e" endpoint at this port,
# chosen at collection, before any worker process starts.
os.environ.setdefault("DARKROOM_TEST_AI_PORT", str(free_port()))


@pytest.fixture
def serve():
    """serve(routes) starts a LoopbackServer for the test and stops it afterwards."""
    servers = []

    def start(routes: dict[str, Route], port: int = 0) -> LoopbackServer:
        server = LoopbackServer(routes, port=port).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def sent(monkeypatch):
    """Every request an httpx.Client would send, recorded and answered 204 instead: nothing
    leaves this machine."""
    import httpx

    requests = []

    def send(self, request, **kwargs):
        requests.append(request)
        return httpx.Response(204, request=request, stream=httpx.ByteStream(b""))

    monkeypatch.setattr(httpx.Client, "send", send)
    return requests


# Browsers (settings and helpers: tests/support/browser.py).


@pytest.fixture
def chromium(monkeypatch):
    """Debian's Chromium driven by Playwright (never a downloaded browser build)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A desktop-sized page in a browser context of its own, which accepts downloads."""
    return chromium.new_context(**DESKTOP, accept_downloads=True).new_page()


# Real photos and the rembg model, for the imaging, rembg, kinds and API tests.


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    return jpeg_bytes(samples.astronaut())


@pytest.fixture(scope="session")
def chelsea_jpeg() -> bytes:
    return jpeg_bytes(samples.chelsea())


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    return jpeg_bytes(samples.coffee())


@pytest.fixture(scope="session")
def rembg_home() -> str:
    """A REMBG_HOME holding models/u2netp/u2netp.onnx (the Makefile provisions one)."""
    candidates = [os.environ.get("DARKROOM_TEST_REMBG_HOME"), *REMBG_HOME_CANDIDATES]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "models" / "u2netp" / "u2netp.onnx").is_file():
            return candidate
    pytest.skip(
        "the rembg model u2netp is not installed: put models/u2netp/u2netp.onnx under "
        "$DARKROOM_TEST_REMBG_HOME, /work/main/var/rembg or /tmp/darkroom-rembg-home"
    )


@pytest.fixture(scope="session")
def u2netp_session(rembg_home):
    from processing.lib.rembg.sessions import get_session

    return get_session("u2netp", home=rembg_home)
