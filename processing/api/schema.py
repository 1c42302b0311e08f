"""OpenAPI pieces every view shares: the one error shape and the responses that use it."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR = inline_serializer(
    "Error",
    fields={
        "error": inline_serializer(
            "ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="Machine-readable, e.g. not_found, rate_limited."),
                "message": serializers.CharField(help_text="For humans."),
                "field": serializers.CharField(allow_null=True, help_text="The request field it is about."),
            },
        )
    },
)

RATE_LIMIT_NOTE = (
    "Every response to a limited request carries X-RateLimit-Limit, X-RateLimit-Remaining and "
    "X-RateLimit-Reset (epoch seconds) for the quota closest to running out."
)

_DESCRIPTIONS = {
    400: "Invalid input (the field is named).",
    401: "No or wrong credentials.",
    403: "Not a member of an active vendor, or a missing CSRF token on a session request.",
    404: "No such object for your vendor (other vendors' objects are never shown), or no such page.",
    405: "Method not allowed.",
    409: "The object's state does not allow this, or a request with the same Idempotency-Key is still being processed.",
    413: "The request body is too large.",
    415: "Unsupported content type.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "A rate limit is reached; see Retry-After and the X-RateLimit-* headers.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses a view documents: always 401, 403 and 429, plus the given ones."""
    return {code: OpenApiResponse(ERROR, description=_DESCRIPTIONS[code]) for code in sorted({401, 403, 429, *codes})}
