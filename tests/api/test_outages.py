"""With Redis or the database away, every request answers 503 with Retry-After in the problem
shape, never a generic 500: the API (its quota script, its reads), the portal, the admin."""

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import image_upload
from tests.support.clients import client_for
from tests.support.loopback import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def assert_outage(response, down: str) -> None:
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/api/problems/service_unavailable" and body["status"] == 503
    assert body["code"] == "service_unavailable" and body["down"] == down
    assert body["title"] and body["detail"]


@pytest.fixture
def owner_client(transactional_db, owner):
    client = client_for(owner)
    client.raise_request_exception = False
    return client


def test_with_redis_down_the_api_answers_503(owner_client, redis_down, astronaut_jpeg):
    # The quota script runs on Redis before anything is created.
    created = owner_client.post(
        "/api/v1/jobs/", {"kind": "transform", "image": image_upload("a.jpg", astronaut_jpeg)}, format="multipart"
    )
    assert_outage(created, "redis")
    # A read that counts against a quota, as every authenticated call does.
    response = owner_client.get("/api/v1/jobs/")
    assert response.status_code in (200, 503), "served without Redis, or refused in the problem shape"
    if response.status_code == 503:
        assert_outage(response, "redis")


@pytest.fixture
def database_down(transactional_db):
    """The next query of this process's connection goes to a port where nothing listens."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", str(free_port())
    yield
    connection.close()
    connection.settings_dict.update(saved)


def test_with_the_database_down_the_api_portal_and_admin_answer_503(database_down):
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_outage(api.get("/api/v1/jobs/"), "database")
    browser = Client(raise_request_exception=False)
    browser.cookies["sessionid"] = "a-session-that-needs-the-database"
    assert_outage(browser.get("/"), "database")
    assert_outage(browser.get("/admin/"), "database")


@pytest.fixture
def pool_exhausted(transactional_db, monkeypatch):
    """This process's connection is borrowed from a real SQLAlchemy QueuePool (what web processes
    use, through django-db-connection-pool) whose only connection another request holds."""
    import MySQLdb
    from sqlalchemy.pool import QueuePool

    params = connection.get_connection_params()
    pool = QueuePool(lambda: MySQLdb.connect(**params), pool_size=1, max_overflow=0, timeout=0.2)
    held = pool.connect()
    connection.close()
    monkeypatch.setattr(connection, "get_new_connection", lambda conn_params: pool.connect())
    yield
    monkeypatch.undo()
    connection.close()
    held.close()
    pool.dispose()


def test_with_every_pooled_connection_busy_the_api_answers_503(pool_exhausted):
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_outage(api.get("/api/v1/jobs/"), "database")
