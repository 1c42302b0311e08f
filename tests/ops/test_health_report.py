"""GET /health/: open to anyone, says which parts answer, and 503 when the database or Redis is down."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_names_each_part_without_signing_in():
    response = Client().get("/health/")
    assert response.status_code == 200
    report = response.json()
    assert set(report) == {"status", "database", "redis", "workers", "model"}
    assert report["database"]["ok"] is True
    assert report["redis"]["ok"] is True
    assert report["model"] == {"ok": True, "name": "u2netp"}
    # Other tests may have left the session's worker running: the status follows what is seen.
    assert report["status"] == ("ok" if report["workers"]["seen"] else "degraded")
    assert "redis://" not in response.content.decode() and "/" not in report["model"]["name"]


def test_a_missing_model_is_reported_but_the_api_stays_up(settings):
    settings.REMBG_MODEL = "silueta"  # in rembg's catalogue, never fetched for the tests
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json()["model"] == {"ok": False, "name": "silueta"}
    assert response.json()["status"] == "degraded"


def test_unreachable_redis_answers_503(redis_down):
    response = Client().get("/health/")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "unavailable"
    assert report["redis"]["ok"] is False
    assert report["database"]["ok"] is True
    assert report["workers"]["seen"] is None


@pytest.mark.e2e
def test_a_running_worker_is_seen(worker):
    response = Client().get("/health/")
    assert response.status_code == 200
    report = response.json()
    assert report["workers"]["seen"] >= 1
    assert report["status"] == "ok"
