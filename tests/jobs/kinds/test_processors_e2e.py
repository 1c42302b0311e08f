"""Through the API, MariaDB, Redis and a real worker process: an input fetched by URL from a
loopback server, and an AI endpoint that fails with 503 once and then answers."""

import os

import pytest

from tests.support.photos import decode, image_bytes
from tests.support.waiting import wait_until_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_image_fetched_by_url_is_transformed(worker, http, serve):
    photo = serve({"/photo.png": lambda r: (200, {"Content-Type": "image/png"}, image_bytes((300, 150)))})
    response = http.post(
        "/api/v1/jobs/",
        json={"kind": "transform", "params": {"width": 100, "format": "jpeg"}, "image_url": photo.url("/photo.png")},
    )
    assert response.status_code == 202, response.text

    job = wait_until_finished(http, response.json()["id"])
    assert job["state"] == "succeeded", job
    assert photo.calls("/photo.png") == 1
    result = job["result"]
    assert result["content_type"] == "image/jpeg" and (result["width"], result["height"]) == (100, 50)
    stored = decode(http.get(result["url"]).content)
    assert stored.format == "JPEG" and stored.size == (100, 50)


def test_a_url_that_is_not_an_image_fails_for_good(worker, http, serve):
    page = serve({"/page": lambda r: (200, {"Content-Type": "text/html"}, b"<html>hello</html>")})
    response = http.post(
        "/api/v1/jobs/", json={"kind": "transform", "params": {"width": 10}, "image_url": page.url("/page")}
    )
    job = wait_until_finished(http, response.json()["id"])
    assert job["state"] == "failed" and job["attempts"] == 1
    assert job["error"]["code"] == "invalid_image"


def test_an_ai_endpoint_that_answers_503_is_retried_until_it_succeeds(worker, http, serve):
    answers = iter([(503, {}, b"warming up")])

    def generate(request):
        return next(answers, (200, {"Content-Type": "image/png"}, image_bytes((64, 32), (0, 0, 255, 255))))

    endpoint = serve({"/generate": generate}, port=int(os.environ["DARKROOM_TEST_AI_PORT"]))
    response = http.post(
        "/api/v1/jobs/",
        data={"kind": "ai_endpoint", "params": '{"endpoint": "e2e", "prompt": "make it blue"}'},
        files={"image": ("in.png", image_bytes((20, 20)), "image/png")},
    )
    assert response.status_code == 202, response.text

    job = wait_until_finished(http, response.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["attempts"] == 2, "the 503 cost one attempt"
    assert endpoint.calls("/generate") == 2
    assert b"make it blue" in endpoint.requests[-1].body
    result = job["result"]
    assert result["content_type"] == "image/png" and (result["width"], result["height"]) == (64, 32)
