"""An operator paying the AI bill gives each plan (or vendor) a budget of AI calls per window
(a day by default): each ai_endpoint job, and each ai_endpoint step of a pipeline, is one call;
when the budget is spent the request is refused with 429 and the RateLimit fields, nothing created."""

import pytest

from processing.jobs.models import Job
from tests.support.clients import client_for
from vendors.quotas import quota_usage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def endpoints(settings):
    settings.AI_ENDPOINTS = {"labels": {"url": "http://127.0.0.1:9/labels"}}


def used(vendor):
    return next(u.used for u in quota_usage(vendor=vendor) if u.name == "ai_calls")


def test_a_spent_ai_budget_refuses_the_next_call_with_429_and_ratelimit_fields(owner, vendor):
    vendor.limit_overrides = {"ai_calls_limit": 2}
    vendor.save(update_fields=["limit_overrides"])
    client = client_for(owner)
    job = {"kind": "ai_endpoint", "params": {"endpoint": "labels", "prompt": "a cat"}}

    first = client.post("/api/v1/jobs/", job, format="json")
    assert first.status_code == 202, first.content
    policy = first["RateLimit-Policy"]
    assert '"ai_calls";q=2;w=86400' in policy
    assert client.post("/api/v1/jobs/", job, format="json").status_code == 202
    refused = client.post("/api/v1/jobs/", job, format="json")

    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited" and refused.json()["limit"] == "ai_calls"
    assert int(refused["Retry-After"]) >= 1 and '"ai_calls"' in refused["RateLimit"]
    assert Job.objects.count() == 2 and used(vendor) == 2
    limits = {row["name"]: row for row in client.get("/api/v1/quota/").json()["limits"]}
    assert limits["ai_calls"]["limit"] == 2 and limits["ai_calls"]["remaining"] == 0


def test_each_ai_step_of_a_pipeline_is_a_call_and_other_kinds_are_not(owner, vendor):
    client = client_for(owner)
    pipeline = {
        "kind": "pipeline",
        "params": {
            "steps": [
                {"kind": "ai_endpoint", "params": {"endpoint": "labels"}},
                {"kind": "transform", "params": {"width": 10}},
                {"kind": "ai_endpoint", "params": {"endpoint": "labels"}},
            ]
        },
        "image_url": "https://example.com/a.jpg",
    }
    response = client.post("/api/v1/jobs/", pipeline, format="json")
    assert response.status_code == 202, response.content
    assert used(vendor) == 2
    client.post("/api/v1/jobs/", {"kind": "transform", "image_url": "https://example.com/a.jpg"}, format="json")
    assert used(vendor) == 2


def tokens_used(vendor):
    return next(u.used for u in quota_usage(vendor=vendor) if u.name == "ai_tokens")


def test_a_token_budget_admits_ai_work_until_it_is_reached_and_charges_nothing_up_front(owner, vendor):
    from vendors.quotas import AI_TOKENS, quota_spend

    vendor.limit_overrides = {"ai_tokens_limit": 1000}
    vendor.save(update_fields=["limit_overrides"])
    client = client_for(owner)
    job = {"kind": "ai_endpoint", "params": {"endpoint": "labels", "prompt": "a cat"}}
    pipeline = {
        "kind": "pipeline",
        "params": {
            "steps": [
                {"kind": "transform", "params": {"width": 10}},
                {"kind": "ai_endpoint", "params": {"endpoint": "labels"}},
            ]
        },
        "image_url": "https://example.com/a.jpg",
    }

    quota_spend(vendor=vendor, name=AI_TOKENS, amount=999)  # what the workers counted so far today
    assert client.post("/api/v1/jobs/", job, format="json").status_code == 202
    assert tokens_used(vendor) == 999, "admission charges no tokens: the run counts what it took"

    quota_spend(vendor=vendor, name=AI_TOKENS, amount=1)
    for refused in (
        client.post("/api/v1/jobs/", job, format="json"),
        client.post("/api/v1/jobs/", pipeline, format="json"),
    ):
        assert refused.status_code == 429
        assert refused.json()["limit"] == "ai_tokens" and "1000 used" in refused.json()["detail"]
        assert '"ai_tokens";r=0;' in refused["RateLimit"] and int(refused["Retry-After"]) >= 1
    assert Job.objects.count() == 1 and used(vendor) == 1, "the refused requests charged no AI call either"
    transform = {"kind": "transform", "params": {"width": 10}, "image_url": "https://example.com/a.jpg"}
    assert client.post("/api/v1/jobs/", transform, format="json").status_code == 202
