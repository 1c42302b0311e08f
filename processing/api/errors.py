"""One error shape everywhere: RFC 9457 problem details (`application/problem+json`) with `code`
and `field` members (processing/lib/problems.py). Every exception a view lets out is converted
here, so code that raises DRF exceptions, JobErrors, QuotaExceeded or Http404 needs nothing else."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from processing.api.limits import rate_limit_headers
from processing.jobs.errors import JobError
from processing.jobs.states import InvalidTransition
from processing.lib import problems
from processing.lib.outages import outage_of
from vendors.quotas import QuotaExceeded, StorageQuotaExceeded

logger = logging.getLogger(__name__)


def _first_error(detail: Any, prefix: str = "") -> tuple[str | None, str, str]:
    """(field, message, code) of the first error in a DRF detail structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else None
            inner_field, message, code = _first_error(value)
            return (f"{prefix}{field}.{inner_field}" if field and inner_field else field or inner_field), message, code
    if isinstance(detail, list) and detail:
        return _first_error(detail[0])
    return None, str(detail), getattr(detail, "code", None) or "invalid"


def error_response(*, code: str, message: str, http_status: int, field: str | None = None, **extra) -> Response:
    body = problems.problem(code=code, detail=message, status=http_status, field=field, **extra)
    return Response(body, status=http_status, content_type=problems.MEDIA_TYPE)


class Conflict(exceptions.APIException):
    """409: a well-formed request that clashes with what exists, such as a duplicate name."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, *, code: str = "duplicate", field: str | None = None):
        super().__init__(detail, code)
        self.field = field


# A well-formed URL (the schema's pattern) that Darkroom will not call: a private or loopback
# address, a port not allowed. A refusal by policy, not a malformed request: 403.
REFUSED_DESTINATIONS = {"url_refused": status.HTTP_403_FORBIDDEN, "port_refused": status.HTTP_403_FORBIDDEN}

# Service errors that are not a 400: the request is valid but what exists does not allow it.
JOB_ERROR_STATUSES = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "too_many_webhooks": status.HTTP_409_CONFLICT,
    "too_many_tokens": status.HTTP_409_CONFLICT,
    "never_expiring_key_not_allowed": status.HTTP_403_FORBIDDEN,  # a key that never expires, on a plan without them
    **REFUSED_DESTINATIONS,
}

# The request field a service error is about.
JOB_ERROR_FIELDS = {
    "invalid_params": "params",
    "params_too_large": "params",
    "unsupported_image": "image",
    "invalid_priority": "priority",
    "invalid_url": "image_url",
    "empty_upload": "image",
    "image_too_large": "image",
    "key_lifetime_too_long": "ttl_days",
    "never_expiring_key_not_allowed": "ttl_days",
}


def rate_limited_response(exc: QuotaExceeded) -> Response:
    response = error_response(
        code="rate_limited",
        message=str(exc),
        http_status=status.HTTP_429_TOO_MANY_REQUESTS,
        limit=exc.usage.name,
        reset_at=exc.usage.reset_at.isoformat() if exc.usage.reset_at else None,
    )
    response["Retry-After"] = str(exc.retry_after_s)
    for name, value in rate_limit_headers(exc.usage).items():
        response[name] = value
    return response


def exception_handler(exc, context):
    down = outage_of(exc)
    if down is not None:
        return outage_response(down)
    if isinstance(exc, QuotaExceeded):
        return rate_limited_response(exc)
    if isinstance(exc, StorageQuotaExceeded):
        return error_response(
            code="storage_quota_exceeded",
            message=str(exc),
            http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            limit="storage_bytes",
            used=exc.used,
            limit_bytes=exc.limit,
        )
    if isinstance(exc, RequestDataTooBig):  # raised while the body is parsed
        return error_response(code="too_large", message=str(exc), http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a malformed multipart body
        return error_response(code="bad_request", message=str(exc), http_status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, JobError):
        if exc.detail != exc.message:  # the caller reads the message; operators the detail
            logger.info("refused %s: %s", exc.code, exc.detail, extra={"code": exc.code})
        http_status = JOB_ERROR_STATUSES.get(exc.code, status.HTTP_400_BAD_REQUEST)
        return error_response(
            code=exc.code, message=exc.message, field=JOB_ERROR_FIELDS.get(exc.code), http_status=http_status
        )
    if isinstance(exc, InvalidTransition):
        return error_response(code="invalid_state", message=str(exc), http_status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "not found")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "permission denied")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    extra = {}
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        extra["errors"] = exc.detail
        response.status_code = REFUSED_DESTINATIONS.get(code, response.status_code)
    else:
        detail = getattr(exc, "detail", str(exc))
        field, message = getattr(exc, "field", None), str(detail)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = problems.problem(code=code, detail=message, status=response.status_code, field=field, **extra)
    response.content_type = problems.MEDIA_TYPE
    return response


def not_found_handler(request, exception=None):
    """JSON 404 under /api/, Django's page elsewhere."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return problems.problem_response(code="not_found", detail=f"no such endpoint: {request.path}", status=404)
    return page_not_found(request, exception)


def outage_response(down: str):
    """503 with Retry-After, in the problem shape: the database or Redis is away for now."""
    from django.conf import settings

    retry_after = int(settings.OUTAGE_RETRY_AFTER_S)
    response = problems.problem_response(
        code="service_unavailable",
        detail=f"the {down} is unavailable for now; try again in {retry_after} s",
        status=503,
        down=down,
    )
    response["Retry-After"] = str(retry_after)
    return response


def server_error_handler(request):
    """503 when the error was an outage of the database or Redis (every path: the API, the
    portal, the admin); else JSON 500 under /api/ (a bug, never bad input), Django's page elsewhere.
    Django calls this inside the `except` that caught the error, so it is at hand."""
    import sys

    from django.views.defaults import server_error

    down = outage_of(sys.exc_info()[1])
    if down is not None:
        return outage_response(down)
    if request.path.startswith("/api/"):
        return problems.problem_response(code="server_error", detail="internal error", status=500)
    return server_error(request)
