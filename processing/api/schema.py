"""OpenAPI pieces every view shares: the one error shape and the responses that use it."""

from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, inline_serializer
from rest_framework import serializers

from processing.lib.imaging.sniff import ALLOWED_CONTENT_TYPES
from processing.lib.problems import MEDIA_TYPE

PROBLEM = inline_serializer(
    "Problem",
    fields={
        "type": serializers.CharField(help_text="A URI per code, e.g. /api/problems/not_found (docs/errors.md)."),
        "title": serializers.CharField(help_text="The same for every problem of this type."),
        "status": serializers.IntegerField(help_text="The HTTP status."),
        "detail": serializers.CharField(help_text="This occurrence, for humans."),
        "code": serializers.CharField(help_text="Machine-readable, e.g. not_found, rate_limited."),
        "field": serializers.CharField(allow_null=True, help_text="The request field it is about."),
    },
)

RATE_LIMIT_NOTE = (
    "Every response to a limited request carries `RateLimit-Policy` (every quota that applies) and "
    "`RateLimit` (the one closest to running out), per draft-ietf-httpapi-ratelimit-headers, and beside "
    "them X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (epoch seconds)."
)

_DESCRIPTIONS = {
    400: "Invalid input (the field is named).",
    401: "No or wrong credentials.",
    403: (
        "Not a member of an active vendor, a missing CSRF token on a session request, or a URL Darkroom "
        "will not call (a private or loopback address, a port not allowed: `url_refused`, `port_refused`)."
    ),
    404: "No such object for your vendor (other vendors' objects are never shown), or no such page.",
    405: "Method not allowed.",
    406: "The Accept header asks for nothing this operation answers in.",
    409: (
        "The object's state does not allow this (a duplicate, a limit on how many there may be), or a "
        "request with the same Idempotency-Key is still being processed."
    ),
    413: "The request body is too large.",
    415: "Unsupported content type.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "A rate limit is reached; see Retry-After and the RateLimit headers.",
}


def errors(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Error responses a view documents: always 401, 403 and 429, plus the given ones."""
    return {
        (code, MEDIA_TYPE): OpenApiResponse(PROBLEM, description=_DESCRIPTIONS[code])
        for code in sorted({401, 403, 429, *codes})
    }


def multipart_with_images(serializer_class, *file_fields: str) -> OpenApiRequest:
    """A multipart body whose file parts must be images of the types Darkroom reads."""
    images = ", ".join(sorted(ALLOWED_CONTENT_TYPES))
    return OpenApiRequest(serializer_class, encoding={name: {"contentType": images} for name in file_fields})


# What DRF's CharField refuses in every string it reads (ProhibitNullCharactersValidator).
NO_NULL_CHARACTER = "^[^\\x00]*$"


def no_null_characters(result, generator, request, public):
    """drf-spectacular hook: say in the schema that request strings hold no NUL character, as the
    server's string fields refuse it (a 400); strings with a pattern, a choice or a format already
    say more."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _forbid_null_characters(component)
    return result


def _forbid_null_characters(schema) -> None:
    """Every string schema within `schema` (properties, items, variants), recursively."""
    if isinstance(schema, list):
        for item in schema:
            _forbid_null_characters(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
            schema["pattern"] = NO_NULL_CHARACTER
        for value in schema.values():
            _forbid_null_characters(value)


def required_request_bodies(result, generator, request, public):
    """drf-spectacular hook: a body whose schema is a choice of variants that each require a
    field (exports: a project or `all`) cannot be left out, so the schema says it is required
    (drf-spectacular leaves a raw schema's body optional)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body or body.get("required"):
                continue
            variants = [media.get("schema", {}).get("oneOf") for media in body.get("content", {}).values()]
            if variants and all(v and all(case.get("required") for case in v) for v in variants):
                body["required"] = True
    return result
