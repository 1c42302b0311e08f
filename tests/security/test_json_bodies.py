"""JSON bodies are bounded before they are parsed (issue 22, point 4): over JSON_BODY_MAX_BYTES
is a 413 before a byte is parsed, more values than JSON_MAX_ITEMS or nesting deeper than
JSON_MAX_DEPTH a 400 — never a RecursionError's 500 — and the largest legitimate bulk still fits.
The same limit before Django reads the body under ASGI: tests/security/test_request_body_limit.py.
The web process's memory under 10 such requests at once: bench/json_bodies.py (docs/security.md)."""

import io
import json

import pytest

from processing.api.parsers import BoundedJSONParser, JsonTooLarge
from processing.jobs.models import Job
from tests.factories import make_member, make_vendor
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def post_raw(user, body: str | bytes, path="/api/v1/jobs/"):
    return client_for(user).generic("POST", path, body, content_type="application/json")


def assert_problem(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_body_over_the_limit_is_413_before_it_is_parsed(owner, member, settings):
    # 5 MiB of empty lists: ~100 MB of Python lists had it been parsed.
    body = '{"kind": "transform", "params": {"x": [' + ",".join(["[]"] * (5 * 1024 * 1024 // 3)) + "]}}"
    for user in (owner, member):
        assert_problem(post_raw(user, body), 413, "too_large")
        assert_problem(post_raw(user, body, "/api/v1/jobs/bulk/"), 413, "too_large")
    assert not Job.objects.exists()


def test_the_limit_is_a_setting(owner, settings):
    settings.JSON_BODY_MAX_BYTES = 100
    refused = post_raw(owner, json.dumps({"kind": "transform", "params": {"note": "x" * 200}}))
    assert_problem(refused, 413, "too_large")
    assert "100 bytes" in refused.json()["detail"]


def test_a_stream_without_a_length_is_read_one_byte_past_the_limit_at_most(settings):
    settings.JSON_BODY_MAX_BYTES = 1000
    stream = io.BytesIO(b"[" + b"0," * 1_000_000 + b"0]")
    with pytest.raises(JsonTooLarge) as refused:
        BoundedJSONParser().parse(stream, "application/json", {})
    assert refused.value.status_code == 413 and stream.tell() == 1001


@pytest.mark.parametrize("depth", [33, 5_000, 200_000])
def test_nesting_deeper_than_the_limit_is_a_400_not_a_500(owner, depth):
    body = '{"kind": "transform", "params": {"x": ' + nested(depth) + "}}"
    assert_problem(post_raw(owner, body), 400, "json_too_deep" if depth < 50_000 else "json_too_complex")
    assert not Job.objects.exists()


def test_nesting_within_the_limit_is_parsed(owner, settings):
    settings.JSON_MAX_DEPTH = 4  # the body itself, params, x, and one list inside
    within = post_raw(owner, '{"kind": "transform", "params": {"width": 32, "x": [[1]]}}')
    assert within.status_code != 400 or within.json()["code"] != "json_too_deep"
    assert_problem(
        post_raw(owner, '{"kind": "transform", "params": {"width": 32, "x": [[[1]]]}}'), 400, "json_too_deep"
    )


def test_more_values_than_the_limit_are_a_400_before_parsing(owner):
    body = '{"kind": "transform", "params": {"x": [' + ",".join(["[]"] * 60_000) + "]}}"
    assert len(body) < 2 * 1024 * 1024
    assert_problem(post_raw(owner, body), 400, "json_too_complex")


def test_anonymous_and_outsiders_are_refused_as_before(client, outsider):
    body = '{"kind": "transform", "params": {"x": ' + nested(5_000) + "}}"
    assert client.generic("POST", "/api/v1/jobs/", body, content_type="application/json").status_code == 401
    assert_problem(post_raw(outsider, body), 400, "json_too_deep")  # their own vendor's request


def test_the_largest_legitimate_bulk_fits(settings):
    """1,000 URLs of the longest length allowed and params at their limit: under the body limit,
    under the value limit, and started."""
    vendor = make_vendor("bulky", plan="unlimited")
    owner = make_member(vendor, "bulky-owner", role="owner")
    url = "https://images.example.com/" + "p" * (2000 - len("https://images.example.com/") - 10)
    urls = [f"{url}{n:010d}" for n in range(settings.BULK_MAX_ITEMS)]
    params = {"width": 32, "mode": "thumbnail"}
    body = json.dumps({"kind": "transform", "image_urls": urls, "params": params, "priority": "low"})
    padding = settings.JOB_PARAMS_MAX_BYTES - len(json.dumps(params))
    assert all(len(u) == 2000 for u in urls)
    assert len(body) + padding < settings.JSON_BODY_MAX_BYTES, "a bulk of the longest URLs with the most params"

    answer = post_raw(owner, body, "/api/v1/jobs/bulk/")

    assert answer.status_code == 202, answer.content[:300]
    assert answer.json()["count"] == settings.BULK_MAX_ITEMS
