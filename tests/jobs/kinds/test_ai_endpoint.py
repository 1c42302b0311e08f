"""Outside AI endpoints against a real HTTP server on loopback: results, retries, Retry-After,
the shared circuit breaker, and input checked before anything is sent."""

import json

import pytest

from processing.jobs.kinds import InputLimits, get_processor
from processing.lib.circuit import CircuitBreaker
from processing.lib.errors import InvalidImage, InvalidOptions, PermanentError, TemporaryError
from processing.lib.redis import get_redis
from tests.support.photos import LIMITS, image_bytes

INPUT = image_bytes((32, 24))
AI = get_processor("ai_endpoint")


@pytest.fixture
def endpoint(serve, settings):
    """A server with several routes and an AI_ENDPOINTS entry per route, with a fresh circuit."""
    server = serve(
        {
            "/labels": lambda r: (200, {"Content-Type": "application/json"}, json.dumps({"labels": ["cat"]}).encode()),
            "/counted": lambda r: (
                200,
                {"Content-Type": "application/json"},
                json.dumps({"labels": ["cat"], "usage": {"prompt_tokens": 1200, "completion_tokens": 34}}).encode(),
            ),
            "/generate": lambda r: (
                200,
                {"Content-Type": "image/webp"},
                image_bytes((48, 16), (0, 120, 255), format="WEBP"),
            ),
            "/down": lambda r: (503, {}, b"overloaded"),
            "/busy": lambda r: (429, {"Retry-After": "12"}, b""),
            "/refuses": lambda r: (400, {}, b"prompt not allowed"),
        }
    )
    settings.AI_ENDPOINTS = {
        name: {"url": server.url(f"/{name}"), "timeout_s": 2}
        for name in ("labels", "counted", "generate", "down", "busy", "refuses")
    }
    settings.AI_CIRCUIT_FAILURES = 3
    settings.AI_CIRCUIT_OPEN_S = 30
    for name in settings.AI_ENDPOINTS:
        get_redis().delete(f"darkroom:circuit:ai:{name}:open", f"darkroom:circuit:ai:{name}:failures")
    return server


def run(endpoint_name: str, data: bytes = INPUT, **params):
    clean = AI.clean_params({"endpoint": endpoint_name, **params})
    return AI.run(data, clean, limits=InputLimits(**LIMITS), progress=lambda *a, **k: None)


def test_labels_come_back_as_a_json_result(endpoint):
    output = run("labels", prompt="what is this?", options={"top": 3})
    assert output.content_type == "application/json" and output.extension == "json"
    assert (output.width, output.height) == (None, None)
    assert json.loads(output.data) == {"labels": ["cat"]}
    sent = endpoint.requests[-1]
    assert sent.method == "POST" and INPUT in sent.body and b"what is this?" in sent.body
    assert b'{"top": 3}' in sent.body


def test_a_generated_image_is_stored_as_an_image(endpoint):
    output = run("generate", prompt="a blue banner")
    assert output.content_type == "image/webp" and output.extension == "webp"
    assert (output.width, output.height) == (48, 16)


def test_an_unknown_endpoint_is_refused_before_the_job_exists(endpoint):
    with pytest.raises(InvalidOptions) as refused:
        AI.clean_params({"endpoint": "nowhere"})
    assert "endpoint" in refused.value.message


def test_5xx_is_retried_and_429_waits_for_retry_after(endpoint):
    with pytest.raises(TemporaryError) as down:
        run("down")
    assert down.value.code == "ai_unavailable"
    with pytest.raises(TemporaryError) as busy:
        run("busy")
    assert busy.value.code == "ai_rate_limited" and busy.value.retry_after_s == 12


def test_a_4xx_is_permanent(endpoint):
    with pytest.raises(PermanentError) as refused:
        run("refuses")
    assert refused.value.code == "ai_rejected" and "HTTP 400" in refused.value.message
    # The body may echo our credentials: operators only.
    assert "prompt not allowed" not in refused.value.message and "prompt not allowed" in refused.value.detail


def test_repeated_failures_open_the_circuit_for_every_worker(endpoint):
    for _ in range(3):
        with pytest.raises(TemporaryError):
            run("down")
    assert endpoint.calls("/down") == 3
    with pytest.raises(TemporaryError) as open_circuit:
        run("down")
    assert open_circuit.value.code == "circuit_open"
    assert 0 < open_circuit.value.retry_after_s <= 30
    assert endpoint.calls("/down") == 3, "an open circuit does not call the endpoint"
    # The state is in Redis, so another process's breaker for the same endpoint sees it open.
    assert CircuitBreaker("ai:down").open_for_s() > 0
    # Other endpoints are not affected.
    assert json.loads(run("labels").data) == {"labels": ["cat"]}


def test_a_success_closes_a_half_open_circuit(endpoint):
    breaker = CircuitBreaker("ai:labels", threshold=3, open_s=30)
    for _ in range(3):
        breaker.record_failure()
    assert breaker.open_for_s() > 0
    get_redis().delete("darkroom:circuit:ai:labels:open")  # the open period has passed
    run("labels")
    assert not breaker.record_failure(), "after a success it takes threshold failures again"


def test_the_input_is_checked_before_anything_is_sent(endpoint):
    with pytest.raises(InvalidImage):
        run("labels", data=b"%PDF-1.7 not an image at all")
    assert endpoint.requests == []


def test_an_image_is_generated_from_a_prompt_alone(endpoint):
    output = run("generate", data=b"", prompt="a red bicycle on a white background")
    assert output.content_type == "image/webp" and (output.width, output.height) == (48, 16)
    sent = endpoint.requests[-1]
    assert b"multipart/form-data" in sent.headers["Content-Type"].encode()
    assert b"a red bicycle" in sent.body and b'name="image"' not in sent.body


def test_a_job_without_image_or_prompt_is_refused(endpoint):
    with pytest.raises(InvalidOptions, match="prompt"):
        run("generate", data=b"")


@pytest.mark.django_db
def test_only_kinds_that_work_without_an_input_accept_none(vendor, settings):
    from processing.jobs import services

    settings.AI_ENDPOINTS = {"generate": {"url": "http://127.0.0.1:9/generate"}}
    job = services.job_create(vendor=vendor, kind="ai_endpoint", params={"endpoint": "generate", "prompt": "a cat"})
    assert job.record is None and job.input_url == ""
    with pytest.raises(InvalidOptions, match="exactly one input"):
        services.job_create(vendor=vendor, kind="transform", params={"width": 10})


@pytest.mark.django_db
def test_the_providers_token_counts_reach_the_usage_ledger(endpoint, vendor, clean_redis):
    """An answer that reports its tokens (OpenAI's prompt/completion or Anthropic's input/output
    spelling) is counted in the vendor's ledger with the call; one that does not counts the call."""
    from django.utils import timezone

    from processing.engine.runner import job_run
    from processing.jobs import selectors, services

    counted, labels = run("counted").usage, run("labels").usage
    assert (counted["calls"], counted["input_tokens"], counted["output_tokens"]) == (1, 1200, 34)
    assert (labels["calls"], labels["input_tokens"], labels["output_tokens"]) == (1, None, None)
    for name in ("counted", "labels"):
        job = services.job_create(vendor=vendor, kind="ai_endpoint", params={"endpoint": name, "prompt": "what?"})
        job_run(job_id=str(job.pk), kind="ai_endpoint")
        job.refresh_from_db()
        assert job.state == "succeeded", job.error_message
    today = timezone.now().date()
    rows = list(selectors.usage_days(vendor=vendor, start=today, end=today, kind="ai_endpoint"))
    totals = selectors.usage_totals(rows)["overall"]
    assert (totals["ai_calls"], totals["ai_input_tokens"], totals["ai_output_tokens"]) == (2, 1200, 34)
    assert (totals["succeeded"], totals["images"]) == (2, 2)
