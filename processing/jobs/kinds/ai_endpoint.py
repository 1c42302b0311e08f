"""Outside AI endpoints (image generation, label analysis) configured in AI_ENDPOINTS.

The job's image (and the prompt, if any) is posted as multipart/form-data to the endpoint; an
image answer is stored as the result image, a JSON answer as a JSON result. Timeouts and 5xx are
retried; 429 waits for Retry-After; repeated failures open a circuit breaker that every worker
shares; the kind's global rate limit is JOB_RATE_LIMITS_PER_S["ai_endpoint"].
"""

import dataclasses
import json
import logging

import httpx
from django.conf import settings
from rest_framework import serializers

from processing.jobs.errors import InvalidImage, InvalidParams, PermanentJobError, RetryableJobError
from processing.jobs.kinds.base import KindParams, OfferedChoiceField, Processor, RetryPolicy
from processing.lib.circuit import CircuitBreaker
from processing.lib.http.client import Answer, parse_retry_after, safe_request
from processing.lib.http.guard import OPERATOR_CONFIGURED

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 60.0


class AiEndpointParams(KindParams):
    endpoint = OfferedChoiceField(offered=lambda: sorted(settings.AI_ENDPOINTS))
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    options = serializers.DictField(required=False, default=dict)


def run(data, params, *, limits, progress):
    from processing.lib.imaging.inspect import load_image

    if data:
        # Never send an outside service something that is not a sound image within the limits.
        load_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    elif not params.get("prompt"):
        raise InvalidParams("a job without an image needs params.prompt")
    name = params["endpoint"]
    progress("processing", 30, f"waiting for {name}")
    fields = {"prompt": params.get("prompt", "")}
    if params.get("options"):
        fields["options"] = json.dumps(params["options"])
    return call_endpoint(name, image=data, fields=fields, limits=limits)


PROCESSOR = Processor(
    kind="ai_endpoint",
    queue="ai_endpoint",
    params=AiEndpointParams,
    run=run,
    # "none": image generation from a prompt alone.
    inputs=frozenset({"record", "upload", "url", "none"}),
    retry=RetryPolicy(max_attempts=4, base_s=5.0),
)


def call_endpoint(name: str, *, image: bytes | None, fields: dict[str, str], limits):
    """POST to the endpoint; the answer as an ImageOutput (image or JSON)."""
    config = settings.AI_ENDPOINTS.get(name)
    if not config:
        raise PermanentJobError(f"the AI endpoint {name!r} is no longer configured", code="ai_endpoint_unknown")
    breaker = CircuitBreaker(f"ai:{name}", threshold=settings.AI_CIRCUIT_FAILURES, open_s=settings.AI_CIRCUIT_OPEN_S)
    breaker.check()
    try:
        response = safe_request(
            "POST",
            config["url"],
            policy=OPERATOR_CONFIGURED,
            timeout_s=float(config.get("timeout_s", DEFAULT_TIMEOUT_S)),
            max_bytes=limits.max_bytes,
            # Always multipart: with no image, the fields travel as plain form parts.
            files={"image": ("image", image)} if image else {k: (None, v) for k, v in fields.items()},
            data=fields if image else None,
            headers=config.get("headers") or {},
        )
    except httpx.TimeoutException as exc:
        _failed(breaker, name, "timed out")
        raise RetryableJobError(f"the AI endpoint {name} timed out", code="ai_timeout") from exc
    except (httpx.HTTPError, RetryableJobError, InvalidParams) as exc:  # unreachable, or no address now
        _failed(breaker, name, f"{type(exc).__name__}: {exc}")
        raise RetryableJobError(
            f"the AI endpoint {name} could not be reached",
            code="ai_unreachable",
            detail=f"the AI endpoint {name} could not be reached: {type(exc).__name__}: {exc}",
        ) from exc

    status = response.status
    if status == 429:
        raise RetryableJobError(
            f"the AI endpoint {name} is rate limiting us",
            code="ai_rate_limited",
            retry_after_s=parse_retry_after(response.headers),
        )
    if status >= 500:
        _failed(breaker, name, f"HTTP {status}")
        raise RetryableJobError(f"the AI endpoint {name} answered HTTP {status}", code="ai_unavailable")
    breaker.record_success()
    if status >= 400:
        # Its 4xx body may echo what we sent it, our credentials (AI_ENDPOINTS headers) included:
        # the vendor reads the status only, operators read the body in the job's log line and
        # the admin (the error's detail).
        raise PermanentJobError(
            f"the AI endpoint {name} refused the request (HTTP {status})",
            code="ai_rejected",
            detail=f"the AI endpoint {name} refused the request (HTTP {status}): {response.text[:300]!r}",
        )
    return _as_output(response, name=name, limits=limits)


def _failed(breaker: CircuitBreaker, name: str, reason: str) -> None:
    if breaker.record_failure():
        logger.error("AI endpoint %s failed %s times in a row (%s): circuit open", name, breaker.threshold, reason)


def _as_output(response: Answer, *, name: str, limits):
    from processing.lib.imaging.encode import CONTENT_TYPES, encode
    from processing.lib.imaging.inspect import load_image
    from processing.lib.imaging.output import ImageOutput, json_output

    content_type = response.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(response.body)
        except ValueError as exc:
            raise RetryableJobError(f"the AI endpoint {name} sent invalid JSON", code="ai_bad_response") from exc
        return dataclasses.replace(json_output(document), tokens=provider_tokens(document))
    try:
        img = load_image(response.body, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    except InvalidImage as exc:
        raise RetryableJobError(
            f"the AI endpoint {name} sent neither JSON nor a readable image ({content_type or 'no type'})",
            code="ai_bad_response",
        ) from exc
    if content_type in CONTENT_TYPES.values():
        return ImageOutput(response.body, content_type, img.width, img.height)
    return encode(img, format="PNG")


# A JSON answer's token counts, as providers spell them: {"usage": {"input_tokens", "output_tokens"}}
# (Anthropic, OpenAI's Responses API) or {"usage": {"prompt_tokens", "completion_tokens"}} (Chat
# Completions). The usage ledger adds them up per vendor; an answer without them counts none.
TOKEN_FIELDS = {"input": ("input_tokens", "prompt_tokens"), "output": ("output_tokens", "completion_tokens")}


def provider_tokens(document) -> dict[str, int] | None:
    usage = document.get("usage") if isinstance(document, dict) else None
    if not isinstance(usage, dict):
        return None
    tokens = {}
    for side, names in TOKEN_FIELDS.items():
        value = next((usage[name] for name in names if name in usage), None)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
            tokens[side] = value
    return tokens or None
