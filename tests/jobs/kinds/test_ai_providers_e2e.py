"""Each AI provider's main path through the API, MariaDB, Redis and a real worker process, the
worker's endpoints (config/settings/test.py) pointing at one loopback server that speaks the
providers' APIs: what the vendor reads is the schema-valid answer and what it cost."""

import base64
import json
import os

import pytest

from processing.jobs.ai.presets import LABEL_ANALYSIS_SCHEMA
from tests.support import ai_providers as wire
from tests.support.photos import camera_photo, decode, image_bytes, jpeg_bytes
from tests.support.waiting import wait_for, wait_until_finished

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CLAUDE_KEY = "sk-ant-e2e-key-0123456789"


@pytest.fixture
def providers(serve):
    """The loopback server the worker's e2e-* endpoints point at; routes set per test."""
    return serve({}, port=int(os.environ["DARKROOM_TEST_AI_PORT"]))


def submit(http, params: dict, image: bytes | None = None) -> dict:
    if image is None:
        response = http.post("/api/v1/jobs/", json={"kind": "ai_endpoint", "params": params})
    else:
        response = http.post(
            "/api/v1/jobs/",
            data={"kind": "ai_endpoint", "params": json.dumps(params)},
            files={"image": ("label.jpg", image, "image/jpeg")},
        )
    assert response.status_code == 202, response.text
    return wait_until_finished(http, response.json()["id"])


def test_a_label_photo_analysed_by_claude_gives_the_schema_valid_answer_and_its_tokens(worker, http, providers):
    # Claude is overloaded once (529): the job waits and tries again, then gets its answer.
    providers.routes["/anthropic/v1/messages"] = wire.sequence(
        wire.anthropic_error(529, "overloaded_error", "Overloaded"),
        wire.anthropic_message(tool_input=wire.LABEL_ANSWER),
    )
    job = submit(http, {"endpoint": "e2e-claude"}, jpeg_bytes(camera_photo((2400, 1600))))

    assert job["state"] == "succeeded", job
    assert job["attempts"] == 2, "the 529 cost one attempt"
    result = job["result"]
    assert result["content_type"] == "application/json"
    assert result["answer"] == wire.LABEL_ANSWER
    assert result["usage"] == {
        "provider": "anthropic",
        "endpoint": "e2e-claude",
        "model": "claude-test",
        "calls": 1,
        "input_tokens": 1210,
        "output_tokens": 95,
        "cached_input_tokens": 40,
        "cache_write_input_tokens": 0,
    }
    assert http.get(result["url"]).json() == wire.LABEL_ANSWER
    sent = providers.requests[-1]
    assert sent.headers["Authorization"] == f"Bearer {CLAUDE_KEY}" and sent.headers["anthropic-version"]
    request = wire.body(sent)
    image = request["messages"][0]["content"][0]
    assert image["type"] == "image" and image["source"]["type"] == "base64"
    assert max(decode(base64.b64decode(image["source"]["data"])).size) <= 1568
    assert request["tools"][0]["input_schema"] == LABEL_ANALYSIS_SCHEMA
    assert request["tool_choice"] == {"type": "tool", "name": "answer"}
    assert CLAUDE_KEY not in json.dumps(job)


def test_a_claude_refusal_fails_the_job_without_showing_the_provider_text(worker, http, providers):
    providers.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_error(
        401, "authentication_error", f"invalid key {CLAUDE_KEY}"
    )
    job = submit(http, {"endpoint": "e2e-claude"}, image_bytes((40, 40)))
    assert job["state"] == "failed" and job["attempts"] == 1
    assert job["error"] == {
        "code": "ai_rejected",
        "message": "the AI endpoint e2e-claude refused the request (HTTP 401)",
    }


def test_openai_chat_answers_the_jobs_schema(worker, http, providers):
    schema = {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}
    providers.routes["/openai/v1/chat/completions"] = lambda r: wire.openai_completion('{"colour": "blue"}')
    job = submit(http, {"endpoint": "e2e-gpt", "prompt": "Which colour?", "schema": schema}, image_bytes((50, 50)))
    assert job["state"] == "succeeded", job
    assert job["result"]["answer"] == {"colour": "blue"}
    assert job["result"]["usage"]["input_tokens"] == 820 and job["result"]["usage"]["cached_input_tokens"] == 512
    request = wire.body(providers.requests[-1])
    assert request["response_format"]["json_schema"]["schema"] == schema


def test_openai_images_generates_an_image_from_a_prompt_alone(worker, http, providers):
    providers.routes["/openai/v1/images/generations"] = lambda r: wire.openai_images((80, 60))
    job = submit(http, {"endpoint": "e2e-images", "prompt": "a red bicycle"})
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["content_type"] == "image/png" and (result["width"], result["height"]) == (80, 60)
    assert decode(http.get(result["url"]).content).size == (80, 60)
    assert result["usage"]["output_tokens"] == 4160 and "answer" not in result


def test_a_json_endpoint_answers_an_image_as_base64(worker, http, providers):
    generated = image_bytes((24, 12), (0, 200, 0))
    providers.routes["/json"] = lambda r: (
        200,
        {"Content-Type": "application/json"},
        json.dumps({"image": base64.b64encode(generated).decode()}).encode(),
    )
    job = submit(http, {"endpoint": "e2e-json", "prompt": "green", "options": {"steps": 4}})
    assert job["state"] == "succeeded", job
    assert (job["result"]["width"], job["result"]["height"]) == (24, 12)
    assert wire.body(providers.requests[-1]) == {"prompt": "green", "options": {"steps": 4}}


def test_an_image_generated_for_a_project_becomes_one_of_its_records_with_a_preview(worker, http, providers, vendor):
    from vendors import services as vendor_services
    from vendors.models import Record

    project = vendor_services.project_create(vendor=vendor, name="Generated banners")
    providers.routes["/openai/v1/images/generations"] = lambda r: wire.openai_images((96, 64))
    response = http.post(
        "/api/v1/jobs/",
        json={
            "kind": "ai_endpoint",
            "params": {"endpoint": "e2e-images", "prompt": "a blue banner"},
            "project": project.pk,
        },
    )
    assert response.status_code == 202, response.text
    job = wait_until_finished(http, response.json()["id"])

    assert job["state"] == "succeeded", job
    record = http.get(f"/api/v1/records/{job['record']}/").json()
    assert record["project"] == project.pk and (record["width"], record["height"]) == (96, 64)
    assert decode(http.get(record["original_url"]).content).size == (96, 64)
    assert wait_for(
        lambda: Record.objects.get(pk=job["record"]).original_thumbnail.name, timeout=30, what="the record's preview"
    )


def ai_usage_totals(http) -> dict:
    """What the vendor's ledger says its ai_endpoint jobs did (GET /api/v1/usage/, the last 30 days)."""
    kinds = http.get("/api/v1/usage/", params={"kind": "ai_endpoint"}).json()["kinds"]
    totals = kinds.get("ai_endpoint", {})
    return {
        name: totals.get(name, 0) for name in ("failed", "succeeded", "ai_calls", "ai_input_tokens", "ai_output_tokens")
    }


OFF_SCHEMA = {"category": 7, "marketplaces": "none"}  # a tool call whose input breaks the preset's schema


def test_a_job_whose_answers_twice_break_the_schema_fails_and_its_two_paid_calls_are_in_the_ledger(
    worker, http, providers
):
    providers.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_message(
        tool_input=OFF_SCHEMA, usage={"input_tokens": 700, "output_tokens": 30}
    )
    job = submit(http, {"endpoint": "e2e-claude"}, image_bytes((40, 40)))

    assert job["state"] == "failed" and job["error"]["code"] == "ai_bad_response", job
    assert providers.calls("/anthropic/v1/messages") == 2
    assert ai_usage_totals(http) == {
        "failed": 1,
        "succeeded": 0,
        "ai_calls": 2,
        "ai_input_tokens": 1400,
        "ai_output_tokens": 60,
    }


def test_the_paid_call_of_an_attempt_that_is_retried_is_counted_beside_the_one_that_succeeds(worker, http, providers):
    # Attempt 1: an answer outside the schema (paid), then Claude overloaded when asked again:
    # the attempt is retried. Attempt 2: a good answer.
    providers.routes["/anthropic/v1/messages"] = wire.sequence(
        wire.anthropic_message(tool_input=OFF_SCHEMA, usage={"input_tokens": 700, "output_tokens": 30}),
        wire.anthropic_error(529, "overloaded_error", "Overloaded"),
        wire.anthropic_message(tool_input=wire.LABEL_ANSWER, usage={"input_tokens": 800, "output_tokens": 90}),
    )
    job = submit(http, {"endpoint": "e2e-claude"}, image_bytes((40, 40)))

    assert job["state"] == "succeeded" and job["attempts"] == 2, job
    assert job["result"]["usage"]["calls"] == 1, "the result tells its own attempt's calls"
    assert ai_usage_totals(http) == {
        "failed": 0,
        "succeeded": 1,
        "ai_calls": 2,
        "ai_input_tokens": 1500,
        "ai_output_tokens": 120,
    }


def test_a_spent_token_budget_refuses_new_ai_jobs_with_429_and_ratelimit_fields(worker, http, providers, vendor):
    vendor.limit_overrides = {"ai_tokens_limit": 2000}
    vendor.save(update_fields=["limit_overrides"])
    providers.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_message(
        tool_input=wire.LABEL_ANSWER, usage={"input_tokens": 1210, "output_tokens": 95}
    )
    label = {"kind": "ai_endpoint", "params": json.dumps({"endpoint": "e2e-claude"})}

    def post(kind=label):
        return http.post("/api/v1/jobs/", data=kind, files={"image": ("label.png", image_bytes((40, 40)), "image/png")})

    first = post()
    assert first.status_code == 202, first.text
    assert '"ai_tokens";q=2000;w=86400' in first.headers["RateLimit-Policy"]
    assert wait_until_finished(http, first.json()["id"])["state"] == "succeeded"
    # 1305 of 2000 tokens spent: the next job is admitted, and passes the budget by its own tokens.
    second = post()
    assert second.status_code == 202, second.text
    assert wait_until_finished(http, second.json()["id"])["state"] == "succeeded"

    refused = post()
    assert refused.status_code == 429, refused.text
    problem = refused.json()
    assert problem["code"] == "rate_limited" and problem["limit"] == "ai_tokens"
    assert "2000 AI tokens" in problem["detail"] and "2610 used" in problem["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert '"ai_tokens";q=2000;w=86400' in refused.headers["RateLimit-Policy"]
    assert '"ai_tokens";r=0;' in refused.headers["RateLimit"]
    assert providers.calls("/anthropic/v1/messages") == 2
    limits = {row["name"]: row for row in http.get("/api/v1/quota/").json()["limits"]}
    assert (limits["ai_tokens"]["limit"], limits["ai_tokens"]["used"], limits["ai_tokens"]["remaining"]) == (
        2000,
        2610,
        0,
    )
    # Other work goes on.
    assert post({"kind": "transform", "params": json.dumps({"width": 8})}).status_code == 202
