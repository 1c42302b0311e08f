"""The AI providers through their official SDKs (anthropic, openai) and the plain JSON protocol,
against loopback servers speaking each provider's HTTP API as documented: the request shapes,
structured answers checked against their schema, the providers' errors, tokens counted."""

import base64
import json
import threading
import time

import pytest

from processing.jobs.ai.presets import LABEL_ANALYSIS_SCHEMA
from processing.jobs.kinds import InputLimits, get_processor
from processing.lib.errors import InvalidOptions, PermanentError, TemporaryError
from processing.lib.redis import get_redis
from tests.support import ai_providers as wire
from tests.support.loopback import free_port
from tests.support.photos import LIMITS, camera_photo, decode, image_bytes, jpeg_bytes

AI = get_processor("ai_endpoint")
KEY = "sk-ant-test-0123456789abcdef"
OPENAI_KEY = "sk-openai-test-abcdef0123456789"
SMALL_SCHEMA = {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}


@pytest.fixture
def ai(serve, settings):
    """A loopback server for every provider's routes (set per test) and endpoints naming it."""
    server = serve({})
    settings.AI_ENDPOINTS = {
        "claude": {
            "provider": "anthropic",
            "base_url": server.url("/anthropic"),
            "model": "claude-test",
            "models": ["claude-test", "claude-small"],
            "api_key": KEY,
            "max_tokens": 2048,
            "preset": "label_analysis",
            "timeout_s": 1,
        },
        "gpt": {
            "provider": "openai",
            "base_url": server.url("/openai/v1"),
            "model": "gpt-test",
            "api_key_env": "DARKROOM_TEST_OPENAI_KEY",
            "timeout_s": 1,
        },
        "painter": {
            "provider": "openai",
            "api": "images",
            "base_url": server.url("/openai/v1"),
            "model": "gpt-image-test",
            "api_key_env": "DARKROOM_TEST_OPENAI_KEY",
        },
        "selfhosted": {"provider": "json", "url": server.url("/generate"), "api_key": "local-key-123456"},
    }
    settings.AI_CIRCUIT_FAILURES = 50
    for key in get_redis().scan_iter("darkroom:circuit:ai:*"):
        get_redis().delete(key)
    return server


@pytest.fixture(autouse=True)
def openai_key(monkeypatch):
    monkeypatch.setenv("DARKROOM_TEST_OPENAI_KEY", OPENAI_KEY)


def run(endpoint: str, data: bytes = b"", **params):
    clean = AI.clean_params({"endpoint": endpoint, **params})
    return AI.run(data, clean, limits=InputLimits(**LIMITS), progress=lambda *a, **k: None)


LABEL_PHOTO = jpeg_bytes(camera_photo((3000, 2000)))


# -- Anthropic ---------------------------------------------------------------------------------


def test_a_label_photo_goes_to_claude_as_a_base64_image_block_and_the_answer_is_the_tools_input(ai):
    ai.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_message(tool_input=wire.LABEL_ANSWER)
    output = run("claude", LABEL_PHOTO)

    assert output.content_type == "application/json"
    assert json.loads(output.data) == wire.LABEL_ANSWER
    assert output.usage == {
        "provider": "anthropic",
        "endpoint": "claude",
        "model": "claude-test",
        "calls": 1,
        "input_tokens": 1210,
        "output_tokens": 95,
        "cached_input_tokens": 40,
        "cache_write_input_tokens": 0,
    }
    (sent,) = ai.requests
    assert sent.method == "POST" and sent.path == "/anthropic/v1/messages"
    # anthropic 2.x sends the key as a bearer token (1.x sent x-api-key), with its API version.
    assert sent.headers["Authorization"] == f"Bearer {KEY}" and sent.headers["anthropic-version"]
    request = wire.body(sent)
    assert request["model"] == "claude-test" and request["max_tokens"] == 2048
    assert "marketplaces" in request["system"] or "label" in request["system"]
    image, text = request["messages"][0]["content"]
    assert image["type"] == "image" and image["source"]["type"] == "base64"
    assert image["source"]["media_type"] == "image/jpeg"
    sent_photo = decode(base64.b64decode(image["source"]["data"]))
    # Downscaled to Anthropic's documented limits: 1568 px on the long edge, ~1.15 megapixels.
    assert max(sent_photo.size) <= 1568 and sent_photo.width * sent_photo.height <= 1_150_000
    assert sent_photo.width / sent_photo.height == pytest.approx(1.5, rel=0.01)
    assert text == {"type": "text", "text": text["text"]} and "label" in text["text"]
    # The structured answer is asked for as a forced tool whose input_schema is the schema.
    assert request["tools"] == [
        {"name": "answer", "description": request["tools"][0]["description"], "input_schema": LABEL_ANALYSIS_SCHEMA}
    ]
    assert request["tool_choice"] == {"type": "tool", "name": "answer"}


def test_the_jobs_own_schema_prompt_model_and_max_tokens_are_used_within_the_entry(ai):
    ai.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_message(tool_input={"colour": "red"})
    output = run(
        "claude",
        image_bytes((40, 40)),
        prompt="Which colour?",
        schema=SMALL_SCHEMA,
        model="claude-small",
        max_tokens=100,
    )
    assert json.loads(output.data) == {"colour": "red"}
    request = wire.body(ai.requests[-1])
    assert request["model"] == "claude-small" and request["max_tokens"] == 100
    assert request["tools"][0]["input_schema"] == SMALL_SCHEMA
    assert request["messages"][0]["content"][1]["text"] == "Which colour?"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"model": "claude-opus-unpaid"}, "params.model"),
        ({"max_tokens": 4096}, "params.max_tokens"),
        ({"schema": {"type": "array"}}, "params.schema"),
        ({"schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}, "params.schema"),
        ({"schema": {"type": "object", "description": "x" * 20_000}}, "params.schema"),
        ({"schema": "not a schema"}, "params.schema"),
    ],
)
def test_params_beyond_what_the_entry_allows_are_refused_before_the_job_exists(ai, params, field):
    with pytest.raises(InvalidOptions) as refused:
        AI.clean_params({"endpoint": "claude", **params})
    assert refused.value.message.startswith(field)
    assert ai.requests == []


def test_an_answer_outside_the_schema_is_asked_for_once_more_and_both_calls_are_counted(ai):
    ai.routes["/anthropic/v1/messages"] = wire.sequence(
        wire.anthropic_message(tool_input={"category": "food"}),  # most of it missing
        wire.anthropic_message(tool_input=wire.LABEL_ANSWER),
    )
    output = run("claude", LABEL_PHOTO)
    assert json.loads(output.data) == wire.LABEL_ANSWER
    assert ai.calls("/anthropic/v1/messages") == 2
    assert output.usage["calls"] == 2 and output.usage["input_tokens"] == 2420 and output.usage["output_tokens"] == 190


def test_two_answers_outside_the_schema_fail_the_job_with_ai_bad_response(ai):
    ai.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_message(text="I think it is a vitamin bottle.")
    with pytest.raises(PermanentError) as failed:
        run("claude", LABEL_PHOTO)
    assert failed.value.code == "ai_bad_response"
    assert ai.calls("/anthropic/v1/messages") == 2


@pytest.mark.parametrize(
    "answer, code, retry_after",
    [
        (
            wire.anthropic_error(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit", {"retry-after": "17"}
            ),
            "ai_rate_limited",
            17,
        ),
        (wire.anthropic_error(529, "overloaded_error", "Overloaded"), "ai_overloaded", None),
        (wire.anthropic_error(500, "api_error", "Internal server error"), "ai_unavailable", None),
        (wire.anthropic_error(503, "api_error", "unavailable", {"retry-after": "3"}), "ai_unavailable", 3),
    ],
)
def test_claudes_passing_errors_are_retried_by_darkroom_once_not_by_the_sdk(ai, answer, code, retry_after):
    ai.routes["/anthropic/v1/messages"] = lambda r: answer
    with pytest.raises(TemporaryError) as failed:
        run("claude", LABEL_PHOTO)
    assert failed.value.code == code and failed.value.retry_after_s == retry_after
    assert ai.calls("/anthropic/v1/messages") == 1, "the SDK's own retries are off"


def test_a_claude_slower_than_timeout_s_is_a_retried_timeout(ai):
    ai.routes["/anthropic/v1/messages"] = wire.slow(2.5, wire.anthropic_message(tool_input=wire.LABEL_ANSWER))
    started = time.monotonic()
    with pytest.raises(TemporaryError) as failed:
        run("claude", LABEL_PHOTO)
    assert failed.value.code == "ai_timeout" and time.monotonic() - started < 2.4
    assert ai.calls("/anthropic/v1/messages") == 1


def test_a_provider_that_cannot_be_reached_is_retried(ai, settings):
    settings.AI_ENDPOINTS["claude"]["base_url"] = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TemporaryError) as failed:
        run("claude", LABEL_PHOTO)
    assert failed.value.code == "ai_unreachable"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_claudes_refusals_are_permanent_and_never_show_the_key(ai, status):
    # A provider's error text may echo what we sent: the key must not reach the vendor, nor the logs.
    ai.routes["/anthropic/v1/messages"] = lambda r: wire.anthropic_error(
        status, "authentication_error", f"invalid x-api-key: {KEY}"
    )
    with pytest.raises(PermanentError) as refused:
        run("claude", LABEL_PHOTO)
    assert refused.value.code == "ai_rejected" and f"HTTP {status}" in refused.value.message
    assert "authentication_error" in refused.value.detail, "operators read what the provider said"
    assert KEY not in refused.value.message and KEY not in refused.value.detail
    assert ai.calls("/anthropic/v1/messages") == 1


def test_an_entry_without_its_key_fails_with_a_message_naming_no_setting_value(ai, settings, monkeypatch):
    monkeypatch.delenv("DARKROOM_TEST_OPENAI_KEY")
    with pytest.raises(PermanentError) as failed:
        run("gpt", image_bytes((20, 20)), prompt="what is it?")
    assert failed.value.code == "ai_endpoint_misconfigured" and ai.requests == []


# -- OpenAI ------------------------------------------------------------------------------------


def test_openai_chat_gets_the_image_as_a_data_url_and_the_schema_as_response_format(ai):
    ai.routes["/openai/v1/chat/completions"] = lambda r: wire.openai_completion(json.dumps({"colour": "blue"}))
    output = run("gpt", image_bytes((3000, 500), (0, 0, 255)), prompt="Which colour?", schema=SMALL_SCHEMA)

    assert json.loads(output.data) == {"colour": "blue"}
    assert output.usage == {
        "provider": "openai",
        "endpoint": "gpt",
        "model": "gpt-test",
        "calls": 1,
        "input_tokens": 820,
        "output_tokens": 64,
        "cached_input_tokens": 512,
        "cache_write_input_tokens": None,
    }
    (sent,) = ai.requests
    assert sent.headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    request = wire.body(sent)
    assert request["model"] == "gpt-test"
    text, image = request["messages"][-1]["content"]
    assert text == {"type": "text", "text": "Which colour?"}
    prefix, encoded = image["image_url"]["url"].split(",", 1)
    assert image["type"] == "image_url" and prefix == "data:image/jpeg;base64"
    assert max(decode(base64.b64decode(encoded)).size) <= 2048
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SMALL_SCHEMA},
    }


def test_openai_text_that_is_not_the_schemas_json_is_asked_again_then_fails(ai):
    ai.routes["/openai/v1/chat/completions"] = lambda r: wire.openai_completion("Blue, I think.")
    with pytest.raises(PermanentError) as failed:
        run("gpt", image_bytes((20, 20)), prompt="Which colour?", schema=SMALL_SCHEMA)
    assert failed.value.code == "ai_bad_response" and ai.calls("/openai/v1/chat/completions") == 2


def test_openai_429_keeps_retry_after_and_401_is_permanent(ai):
    ai.routes["/openai/v1/chat/completions"] = lambda r: wire.openai_error(
        429, "Rate limit reached", "requests", {"retry-after": "9"}
    )
    with pytest.raises(TemporaryError) as limited:
        run("gpt", prompt="hello")
    assert limited.value.code == "ai_rate_limited" and limited.value.retry_after_s == 9
    ai.routes["/openai/v1/chat/completions"] = lambda r: wire.openai_error(
        401, f"Incorrect API key provided: {OPENAI_KEY}"
    )
    with pytest.raises(PermanentError) as refused:
        run("gpt", prompt="hello")
    assert refused.value.code == "ai_rejected" and OPENAI_KEY not in refused.value.detail
    assert ai.calls("/openai/v1/chat/completions") == 2


def test_openai_images_generates_from_a_prompt_as_b64_json(ai):
    ai.routes["/openai/v1/images/generations"] = lambda r: wire.openai_images((64, 48))
    output = run("painter", prompt="a red bicycle on white", options={"size": "1024x1024", "n": 5})
    assert output.content_type == "image/png" and (output.width, output.height) == (64, 48)
    assert output.usage["input_tokens"] == 12 and output.usage["output_tokens"] == 4160
    request = wire.body(ai.requests[-1])
    assert request == {
        "prompt": "a red bicycle on white",
        "n": 1,
        "response_format": "b64_json",
        "model": "gpt-image-test",
        "size": "1024x1024",
    }


# -- plain JSON --------------------------------------------------------------------------------


def test_a_json_endpoint_gets_prompt_image_and_options_and_may_answer_base64(ai):
    generated = image_bytes((30, 20), (0, 255, 0))
    ai.routes["/generate"] = lambda r: (
        200,
        {"Content-Type": "application/json"},
        json.dumps({"image": base64.b64encode(generated).decode(), "usage": {"input_tokens": 7}}).encode(),
    )
    source = image_bytes((16, 16))
    output = run("selfhosted", source, prompt="make it green", options={"steps": 20})
    assert output.content_type == "image/png" and (output.width, output.height) == (30, 20)
    assert output.usage["provider"] == "json" and output.usage["input_tokens"] == 7
    sent = ai.requests[-1]
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == "Bearer local-key-123456"
    assert wire.body(sent) == {
        "prompt": "make it green",
        "options": {"steps": 20},
        "image": base64.b64encode(source).decode(),
    }


def test_a_json_endpoint_without_image_answering_bytes_or_json(ai):
    ai.routes["/generate"] = lambda r: (200, {"Content-Type": "image/png"}, image_bytes((12, 10)))
    assert (run("selfhosted", prompt="a cat").width, 10) == (12, 10)
    assert "image" not in wire.body(ai.requests[-1])
    ai.routes["/generate"] = lambda r: (200, {"Content-Type": "application/json"}, b'{"colour": "teal"}')
    output = run("selfhosted", prompt="a cat", schema=SMALL_SCHEMA)
    assert json.loads(output.data) == {"colour": "teal"}
    assert wire.body(ai.requests[-1])["schema"] == SMALL_SCHEMA


# -- shared limits -----------------------------------------------------------------------------


def test_max_concurrency_holds_across_callers(ai, settings):
    settings.AI_ENDPOINTS["selfhosted"]["max_concurrency"] = 1
    settings.AI_SLOT_WAIT_S = 10
    get_redis().delete("darkroom:concurrency:ai:selfhosted")
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def generate(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    ai.routes["/generate"] = generate
    results = []
    threads = [threading.Thread(target=lambda: results.append(run("selfhosted", prompt="x"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and state["most"] == 1


def test_a_caller_that_waits_too_long_for_a_slot_is_retried_later(ai, settings):
    from processing.lib.concurrency import concurrency_slot

    settings.AI_ENDPOINTS["selfhosted"]["max_concurrency"] = 1
    settings.AI_SLOT_WAIT_S = 0.2
    get_redis().delete("darkroom:concurrency:ai:selfhosted")
    with concurrency_slot("ai:selfhosted", limit=1, hold_s=30, wait_s=0):  # another worker's call
        with pytest.raises(TemporaryError) as busy:
            run("selfhosted", prompt="x")
    assert busy.value.code == "ai_busy" and ai.requests == []
