"""The wire protocols of the AI providers an AI_ENDPOINTS entry may name:

- `anthropic`: the Messages API through the official `anthropic` SDK; the image as a base64 image
  block, a structured answer as a forced tool whose input_schema is the schema;
- `openai`: the official `openai` SDK; chat completions with the image as a data URL and a
  structured answer as response_format json_schema ("api": "chat", the default), or the Images
  API's images.generate with b64_json ("api": "images"); any compatible server through base_url;
- `json`: a plain HTTP endpoint taking {"prompt", "image" (base64, absent without one), "options"}
  and answering an image (bytes, or base64 in JSON as "image" or "b64_json") or JSON;
- `multipart`: the image and fields as multipart/form-data (the default, as before).

The SDKs send through the project's guarded client (processing/lib/http/sdk.py) with their own
retries off (max_retries=0): Darkroom's retry rules apply, once. Their errors become the job's
errors here: 429 (Retry-After kept), 529 overloaded, 5xx, timeouts and connection failures are
retried; any other 4xx is permanent and the vendor reads the status only (the provider's text may
echo what we sent, credentials included: it goes to the detail, for operators)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from processing.lib.errors import InvalidImage, InvalidOptions, PermanentError, ProcessingError, TemporaryError
from processing.lib.http.client import Answer, parse_retry_after, safe_request
from processing.lib.http.guard import OPERATOR_CONFIGURED
from processing.lib.imaging.output import ImageOutput

PROVIDERS = ("multipart", "json", "anthropic", "openai")
DEFAULT_BASE_URLS = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 1024
# Anthropic's documented image limits: no resizing on their side below 1568 px on the long edge
# and about 1.15 megapixels; larger images are scaled down there anyway, at our cost in bytes.
ANTHROPIC_MAX_EDGE, ANTHROPIC_MAX_PIXELS = 1568, 1_150_000
# OpenAI scales images to fit 2048 x 2048 (then 768 px on the short side for high detail).
OPENAI_MAX_EDGE, OPENAI_MAX_PIXELS = 2048, 2048 * 768
TOOL_NAME = "answer"
# Errors that say the endpoint itself is failing: they count towards its circuit breaker.
ENDPOINT_FAILURES = frozenset({"ai_timeout", "ai_unreachable", "ai_unavailable", "ai_overloaded"})


@dataclass(frozen=True)
class Call:
    """One request to an endpoint, as the job's params and the entry decided it."""

    name: str
    config: dict
    prompt: str
    system: str = ""
    model: str = ""
    max_tokens: int = DEFAULT_MAX_TOKENS
    schema: dict | None = None
    options: dict = field(default_factory=dict)
    image: bytes = b""  # the checked input image, as the vendor sent it
    max_bytes: int = 0
    max_pixels: int = 0

    @property
    def timeout_s(self) -> float:
        return float(self.config.get("timeout_s", DEFAULT_TIMEOUT_S))


@dataclass
class Reply:
    """What one call answered: a JSON document or an image, and what it cost."""

    answer: Any = None
    output: ImageOutput | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    model: str = ""


def api_key(config: dict, name: str) -> str:
    """The entry's key: "api_key", or the environment variable "api_key_env" names."""
    key = config.get("api_key") or (os.environ.get(config["api_key_env"], "") if config.get("api_key_env") else "")
    if not key:
        raise PermanentError(
            f"the AI endpoint {name} is not configured completely",
            code="ai_endpoint_misconfigured",
            detail=f"AI_ENDPOINTS[{name!r}] has no api_key (or its api_key_env is unset)",
        )
    return key


def send(call: Call) -> Reply:
    provider = call.config.get("provider", "multipart")
    if provider == "anthropic":
        return _anthropic(call)
    if provider == "openai":
        return _openai_images(call) if call.config.get("api") == "images" else _openai_chat(call)
    if provider == "json":
        return _json(call)
    return _multipart(call)


# -- anthropic ---------------------------------------------------------------------------------


def _anthropic(call: Call) -> Reply:
    import anthropic

    content: list[dict] = []
    if call.image:
        data, media_type = _prepared(call, max_edge=ANTHROPIC_MAX_EDGE, max_pixels=ANTHROPIC_MAX_PIXELS)
        content.append({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": _b64(data)}})
    content.append({"type": "text", "text": call.prompt or "Describe this image."})
    request: dict[str, Any] = {
        "model": call.model,
        "max_tokens": call.max_tokens,
        "messages": [{"role": "user", "content": content}],
    }
    if call.system:
        request["system"] = call.system
    if call.schema is not None:
        request["tools"] = [
            {"name": TOOL_NAME, "description": "Give the answer in this shape.", "input_schema": call.schema}
        ]
        request["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
    with _sdk_errors(call, anthropic), _client(call, anthropic.Anthropic) as client:
        message = client.messages.create(**request)
    usage = message.usage
    reply = Reply(
        model=message.model or call.model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=getattr(usage, "cache_read_input_tokens", None),
        cache_write_input_tokens=getattr(usage, "cache_creation_input_tokens", None),
    )
    if call.schema is not None:
        tool_use = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        reply.answer = tool_use.input if tool_use is not None else _NO_ANSWER
    else:
        reply.answer = {"text": "".join(b.text for b in message.content if b.type == "text")}
    return reply


# -- openai ------------------------------------------------------------------------------------


def _openai_chat(call: Call) -> Reply:
    import openai

    content: list[dict] = [{"type": "text", "text": call.prompt or "Describe this image."}]
    if call.image:
        data, media_type = _prepared(call, max_edge=OPENAI_MAX_EDGE, max_pixels=OPENAI_MAX_PIXELS)
        content.append({"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{_b64(data)}"}})
    messages = [{"role": "system", "content": call.system}] if call.system else []
    messages.append({"role": "user", "content": content})
    request: dict[str, Any] = {"model": call.model, "messages": messages, "max_tokens": call.max_tokens}
    if call.schema is not None:
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": TOOL_NAME, "schema": call.schema},
        }
    with _sdk_errors(call, openai), _client(call, openai.OpenAI) as client:
        completion = client.chat.completions.create(**request)
    reply = Reply(model=completion.model or call.model)
    if completion.usage is not None:
        details = completion.usage.prompt_tokens_details
        reply.input_tokens = completion.usage.prompt_tokens
        reply.output_tokens = completion.usage.completion_tokens
        reply.cached_input_tokens = details.cached_tokens if details is not None else None
    text = (completion.choices[0].message.content or "") if completion.choices else ""
    if call.schema is None:
        reply.answer = {"text": text}
    else:
        try:
            reply.answer = json.loads(text)
        except ValueError:
            reply.answer = _NO_ANSWER
    return reply


# What the images API may be given from params.options.
IMAGE_OPTIONS = ("size", "quality", "background", "style", "output_format")


def _openai_images(call: Call) -> Reply:
    import openai

    request: dict[str, Any] = {"prompt": call.prompt, "n": 1, "response_format": "b64_json"}
    if call.model:
        request["model"] = call.model
    request.update({k: v for k, v in call.options.items() if k in IMAGE_OPTIONS and isinstance(v, str)})
    with _sdk_errors(call, openai), _client(call, openai.OpenAI) as client:
        generated = client.images.generate(**request)
    reply = Reply(model=call.model)
    usage = getattr(generated, "usage", None)
    if usage is not None:
        reply.input_tokens, reply.output_tokens = usage.input_tokens, usage.output_tokens
    b64 = generated.data[0].b64_json if generated.data else None
    reply.output = _image_from_b64(b64, call)
    return reply


# -- the SDKs' plumbing ------------------------------------------------------------------------


@contextmanager
def _client(call: Call, client_class):
    from processing.lib.http.sdk import guarded_sdk_client

    http_client = guarded_sdk_client(policy=OPERATOR_CONFIGURED, timeout_s=call.timeout_s, max_bytes=call.max_bytes)
    provider = call.config["provider"]
    client = client_class(
        api_key=api_key(call.config, call.name),
        base_url=call.config.get("base_url") or DEFAULT_BASE_URLS[provider],
        timeout=call.timeout_s,
        max_retries=0,  # Darkroom's retry rules apply, once
        default_headers=call.config.get("headers") or None,
        http_client=http_client,
    )
    try:
        yield client
    finally:
        http_client.close()


@contextmanager
def _sdk_errors(call: Call, sdk):
    """The SDK's exceptions as the job's errors, as the provider documents them."""
    name = call.name
    try:
        yield
    except sdk.APITimeoutError as exc:
        raise TemporaryError(f"the AI endpoint {name} timed out", code="ai_timeout") from exc
    except sdk.APIConnectionError as exc:
        cause = _our_cause(exc)
        if cause is not None and not cause.retryable and cause.code != "url_refused":
            raise cause from exc  # e.g. an answer over the size limit
        reason = cause.detail if cause is not None else f"{type(exc.__cause__ or exc).__name__}: {exc.__cause__ or exc}"
        raise TemporaryError(
            f"the AI endpoint {name} could not be reached",
            code="ai_unreachable",
            detail=redacted(f"the AI endpoint {name} could not be reached: {reason}", call.config),
        ) from exc
    except sdk.APIStatusError as exc:
        raise status_error(call, exc.status_code, exc.response.headers, _provider_text(exc)) from exc


def _our_cause(exc: BaseException) -> ProcessingError | None:
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, ProcessingError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _provider_text(exc) -> str:
    body = exc.body if isinstance(getattr(exc, "body", None), dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    kind, message = error.get("type", ""), error.get("message", "")
    return f"{kind}: {message}"[:300] if kind or message else str(exc)[:300]


def redacted(text: str, config: dict) -> str:
    """`text` without the entry's key and header values, should a provider's answer echo them."""
    secrets = [config.get("api_key"), os.environ.get(config["api_key_env"]) if config.get("api_key_env") else None]
    secrets += [str(value) for value in (config.get("headers") or {}).values()]
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
            for word in secret.split():  # "Bearer sk-..." echoed as the token alone
                if len(word) >= 8:
                    text = text.replace(word, "[redacted]")
    return text


def status_error(call: Call, status: int, headers, text: str) -> Exception:
    """An HTTP error status as the job's error. `text` (the provider's answer) is for operators,
    and even they do not read credentials it echoes."""
    name = call.name
    detail = redacted(f"the AI endpoint {name} answered HTTP {status}: {text!r}", call.config)
    retry_after = parse_retry_after(headers) if headers is not None else None
    if status == 429:
        return TemporaryError(
            f"the AI endpoint {name} is rate limiting us",
            code="ai_rate_limited",
            retry_after_s=retry_after,
            detail=detail,
        )
    if status == 529:  # Anthropic: overloaded_error, their whole service is busy
        return TemporaryError(
            f"the AI endpoint {name} is overloaded", code="ai_overloaded", retry_after_s=retry_after, detail=detail
        )
    if status >= 500 or status == 408:
        return TemporaryError(
            f"the AI endpoint {name} answered HTTP {status}",
            code="ai_unavailable",
            retry_after_s=retry_after,
            detail=detail,
        )
    # Its 4xx body may echo what we sent it, our credentials included: the vendor reads the
    # status only, operators read the body in the job's log line and the admin (the detail).
    return PermanentError(
        f"the AI endpoint {name} refused the request (HTTP {status})", code="ai_rejected", detail=detail
    )


# -- plain HTTP --------------------------------------------------------------------------------


def _post(call: Call, **send_args) -> Answer:
    try:
        return safe_request(
            "POST",
            call.config["url"],
            policy=OPERATOR_CONFIGURED,
            timeout_s=call.timeout_s,
            max_bytes=call.max_bytes,
            **send_args,
        )
    except httpx.TimeoutException as exc:
        raise TemporaryError(f"the AI endpoint {call.name} timed out", code="ai_timeout") from exc
    except (httpx.HTTPError, TemporaryError, InvalidOptions) as exc:  # unreachable, or no address now
        raise TemporaryError(
            f"the AI endpoint {call.name} could not be reached",
            code="ai_unreachable",
            detail=redacted(
                f"the AI endpoint {call.name} could not be reached: {type(exc).__name__}: {exc}", call.config
            ),
        ) from exc


def _checked_status(call: Call, response: Answer) -> None:
    if response.status >= 400:
        raise status_error(call, response.status, response.headers, response.text[:300])


def _multipart(call: Call) -> Reply:
    fields = {"prompt": call.prompt}
    if call.options:
        fields["options"] = json.dumps(call.options)
    response = _post(
        call,
        # Always multipart: with no image, the fields travel as plain form parts.
        files={"image": ("image", call.image)} if call.image else {k: (None, v) for k, v in fields.items()},
        data=fields if call.image else None,
        headers=call.config.get("headers") or {},
    )
    _checked_status(call, response)
    return _plain_reply(call, response)


def _json(call: Call) -> Reply:
    body: dict[str, Any] = {"prompt": call.prompt, "options": call.options}
    if call.image:
        body["image"] = _b64(call.image)
    if call.schema is not None:
        body["schema"] = call.schema
    if call.model:
        body["model"] = call.model
    headers = {"Content-Type": "application/json", **(call.config.get("headers") or {})}
    if call.config.get("api_key") or call.config.get("api_key_env"):
        headers["Authorization"] = f"Bearer {api_key(call.config, call.name)}"
    response = _post(call, content=json.dumps(body).encode(), headers=headers)
    _checked_status(call, response)
    reply = _plain_reply(call, response)
    document = reply.answer
    if isinstance(document, dict):
        encoded = document.get("image") or document.get("b64_json")
        if isinstance(encoded, str):
            reply.output, reply.answer = _image_from_b64(encoded, call), None
    return reply


def _plain_reply(call: Call, response: Answer) -> Reply:
    content_type = response.content_type
    reply = Reply(model=call.model)
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            reply.answer = json.loads(response.body)
        except ValueError as exc:
            raise TemporaryError(f"the AI endpoint {call.name} sent invalid JSON", code="ai_bad_response") from exc
        # A plain endpoint's token counts, as providers spell them: {"usage": {"input_tokens",
        # "output_tokens"}} (Anthropic, OpenAI's Responses API) or {"prompt_tokens",
        # "completion_tokens"} (Chat Completions). The usage ledger adds them up per vendor.
        usage = reply.answer.get("usage") if isinstance(reply.answer, dict) else None
        if isinstance(usage, dict):
            reply.input_tokens = _int_or_none(usage.get("input_tokens", usage.get("prompt_tokens")))
            reply.output_tokens = _int_or_none(usage.get("output_tokens", usage.get("completion_tokens")))
        return reply
    reply.output = _image_output(response.body, content_type, call)
    return reply


# -- images ------------------------------------------------------------------------------------


def _image_output(data: bytes, content_type: str, call: Call) -> ImageOutput:
    from processing.lib.imaging.encode import CONTENT_TYPES, encode
    from processing.lib.imaging.inspect import load_image

    try:
        img = load_image(data, max_bytes=call.max_bytes, max_pixels=call.max_pixels)
    except InvalidImage as exc:
        raise TemporaryError(
            f"the AI endpoint {call.name} sent neither JSON nor a readable image ({content_type or 'no type'})",
            code="ai_bad_response",
        ) from exc
    if content_type in CONTENT_TYPES.values():
        return ImageOutput(data, content_type, img.width, img.height)
    return encode(img, format="PNG")


def _image_from_b64(encoded: str | None, call: Call) -> ImageOutput:
    from processing.lib.imaging.sniff import sniff_content_type

    try:
        data = base64.b64decode(encoded or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise TemporaryError(f"the AI endpoint {call.name} sent no image", code="ai_bad_response")
    return _image_output(data, sniff_content_type(data) or "", call)


def _prepared(call: Call, *, max_edge: int, max_pixels: int) -> tuple[bytes, str]:
    """The image within the provider's documented limits: scaled down to max_edge on the long
    side and max_pixels in all, as JPEG (PNG when it has transparency), its metadata stripped."""
    from PIL import Image

    from processing.lib.imaging.encode import encode
    from processing.lib.imaging.inspect import load_image

    img = load_image(call.image, max_bytes=call.max_bytes, max_pixels=call.max_pixels)
    scale = min(1.0, max_edge / max(img.size), math.sqrt(max_pixels / (img.width * img.height)))
    if scale < 1.0:
        size = (max(1, int(img.width * scale)), max(1, int(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS)
    transparent = img.mode in ("RGBA", "LA") and img.getchannel("A").getextrema()[0] < 255
    encoded = encode(img, format="PNG" if transparent else "JPEG", quality=90)
    return encoded.data, encoded.content_type


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# An answer that should have been structured and was not: no tool call, or text that is not JSON.
_NO_ANSWER = object()


def no_answer(answer: Any) -> bool:
    return answer is _NO_ANSWER
