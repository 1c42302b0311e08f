"""Outside AI endpoints (label analysis, image generation) configured in AI_ENDPOINTS.

Each entry names its `provider` (processing/jobs/ai/providers.py: anthropic, openai, json, or
multipart, the default). A job may ask for a structured answer (params.schema, or the entry's or
its preset's schema): the answer is checked with jsonschema, asked for once more when it does not
match, then the job fails with ai_bad_response. Timeouts, 429 (Retry-After kept), 529 and 5xx are
retried; repeated failures open a circuit breaker that every worker shares; max_concurrency and
rate_per_s bound the calls per endpoint across workers; the kind's global rate limit is
JOB_RATE_LIMITS_PER_S["ai_endpoint"]. What the provider counted (tokens, model, calls) travels with
the output as ImageOutput.usage and is stored as the job's result["usage"].
"""

import dataclasses
import logging
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from rest_framework import serializers

from processing.jobs.ai.answers import answer_problem, check_schema
from processing.jobs.ai.presets import PRESETS
from processing.jobs.ai.providers import (
    DEFAULT_MAX_TOKENS,
    ENDPOINT_FAILURES,
    Call,
    Reply,
    no_answer,
    send,
)
from processing.jobs.kinds.base import KindParams, Limits, OfferedChoiceField, Processor, Progress, RetryPolicy
from processing.lib.circuit import CircuitBreaker
from processing.lib.concurrency import concurrency_slot, rate_slot
from processing.lib.errors import InvalidOptions, PermanentError, ProcessingError, TemporaryError
from processing.lib.imaging.output import ImageOutput, json_output

logger = logging.getLogger(__name__)


def _entry(name: str) -> dict:
    return settings.AI_ENDPOINTS.get(name) or {}


class AiEndpointParams(KindParams):
    endpoint = OfferedChoiceField(offered=lambda: sorted(settings.AI_ENDPOINTS))
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    options = serializers.DictField(required=False, default=dict)
    schema = serializers.JSONField(
        required=False, help_text="A JSON Schema (an object, at most 16 KB) the answer must match."
    )
    model = serializers.CharField(
        required=False, max_length=200, help_text="One of the models the endpoint offers (its `models`)."
    )
    max_tokens = serializers.IntegerField(required=False, min_value=1, help_text="At most the endpoint's max_tokens.")
    system = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        config = _entry(attrs["endpoint"])
        if "schema" in attrs:
            try:
                check_schema(attrs["schema"])
            except InvalidOptions as exc:
                raise serializers.ValidationError({"schema": exc.message}, code="invalid") from None
        if "model" in attrs:
            offered = config.get("models") or [config.get("model")]
            if attrs["model"] not in offered:
                raise serializers.ValidationError(
                    {"model": f"must be one of {[m for m in offered if m]}"}, code="invalid_choice"
                )
        cap = int(config.get("max_tokens", DEFAULT_MAX_TOKENS))
        if attrs.get("max_tokens", 0) > cap:
            raise serializers.ValidationError({"max_tokens": f"must be at most {cap}"}, code="max_value")
        return attrs


def run(data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput:
    from processing.lib.imaging.inspect import load_image

    if data:
        # Never send an outside service something that is not a sound image within the limits.
        load_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    name = params["endpoint"]
    config = settings.AI_ENDPOINTS.get(name)
    if not config:
        raise PermanentError(f"the AI endpoint {name!r} is no longer configured", code="ai_endpoint_unknown")
    preset = PRESETS.get(config.get("preset", ""), {})
    prompt = params.get("prompt") or config.get("prompt") or preset.get("prompt", "")
    if not data and not prompt:
        raise InvalidOptions("a job without an image needs params.prompt")
    call = Call(
        name=name,
        config=config,
        prompt=prompt,
        system=params.get("system") or config.get("system") or preset.get("system", ""),
        model=params.get("model") or config.get("model", ""),
        max_tokens=params.get("max_tokens") or int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
        schema=params.get("schema") or config.get("schema") or preset.get("schema"),
        options=params.get("options") or {},
        image=data,
        max_bytes=limits.max_bytes,
        max_pixels=limits.max_pixels,
    )
    progress("processing", 30, f"waiting for {name}")
    return call_endpoint(call)


PROCESSOR = Processor(
    kind="ai_endpoint",
    queue="ai_endpoint",
    params=AiEndpointParams,
    run=run,
    # "none": image generation from a prompt alone.
    inputs=frozenset({"record", "upload", "url", "none"}),
    retry=RetryPolicy(max_attempts=4, base_s=5.0),
)


def call_endpoint(call: Call) -> ImageOutput:
    """Call the endpoint (twice at most, when a structured answer does not match its schema);
    the answer as an ImageOutput (an image, or the JSON document) carrying its usage."""
    name, config = call.name, call.config
    breaker = CircuitBreaker(f"ai:{name}", threshold=settings.AI_CIRCUIT_FAILURES, open_s=settings.AI_CIRCUIT_OPEN_S)
    breaker.check()
    usage = Usage(provider=config.get("provider", "multipart"), endpoint=name, model=call.model)
    try:
        with ExitStack() as held:
            _take_slots(call, held)
            for asked in (1, 2):
                reply = _send(call, breaker)
                usage.add(reply)
                if reply.output is not None:
                    return dataclasses.replace(reply.output, usage=usage.as_dict())
                problem = (
                    "no structured answer" if no_answer(reply.answer) else answer_problem(reply.answer, call.schema)
                )
                if problem is None:
                    return dataclasses.replace(json_output(reply.answer), usage=usage.as_dict())
                logger.warning(
                    "AI endpoint %s answered outside the schema (%s), asked %s time(s)", name, problem, asked
                )
        raise PermanentError(
            f"the AI endpoint {name} twice gave an answer that does not match the schema",
            code="ai_bad_response",
            detail=f"the AI endpoint {name} twice gave an answer that does not match the schema: {problem}",
        )
    except ProcessingError as exc:
        # Answered calls cost money even when the attempt fails: the ledger and the vendor's token
        # budget count them from the error (runs.job_fail, engine/runner.py).
        if usage.calls:
            exc.ai_usage = usage.as_dict()
        raise


def _take_slots(call: Call, held: ExitStack) -> None:
    config, name = call.config, call.name
    try:
        if config.get("rate_per_s"):
            rate_slot(f"ai:{name}", per_s=float(config["rate_per_s"]), wait_s=settings.AI_SLOT_WAIT_S)
        if config.get("max_concurrency"):
            held.enter_context(
                concurrency_slot(
                    f"ai:{name}",
                    limit=int(config["max_concurrency"]),
                    hold_s=2 * call.timeout_s + 10,  # two calls at most, then the slot expires anyway
                    wait_s=settings.AI_SLOT_WAIT_S,
                )
            )
    except TemporaryError as exc:
        raise TemporaryError(
            f"the AI endpoint {name} is busy with other jobs", code="ai_busy", retry_after_s=exc.retry_after_s
        ) from exc


def _send(call: Call, breaker: CircuitBreaker) -> Reply:
    try:
        reply = send(call)
    except TemporaryError as exc:
        if exc.code in ENDPOINT_FAILURES and breaker.record_failure():
            logger.error(
                "AI endpoint %s failed %s times in a row (%s): circuit open", call.name, breaker.threshold, exc.detail
            )
        raise
    except PermanentError as exc:
        if exc.code == "ai_rejected":
            breaker.record_success()  # it answered: the endpoint works, the request was refused
        raise
    breaker.record_success()
    return reply


@dataclasses.dataclass
class Usage:
    """What a job's calls cost, summed over its calls (an answer asked for twice costs twice)."""

    provider: str
    endpoint: str
    model: str = ""
    calls: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None

    TOKENS = ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_input_tokens")

    def add(self, reply: Reply) -> None:
        self.calls += 1
        self.model = reply.model or self.model
        for name in self.TOKENS:
            value = getattr(reply, name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0) + value)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
