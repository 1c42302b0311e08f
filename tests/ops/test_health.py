"""Health endpoints that container checks and load balancers call."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_live_and_ready_answer_ok_when_the_database_and_redis_answer():
    client = Client()
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_names_redis_when_it_does_not_answer(redis_down):
    response = Client().get("/health/ready")
    live = Client().get("/health/live")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "down": ["redis"]}
    assert live.status_code == 200, "liveness does not depend on Redis"
