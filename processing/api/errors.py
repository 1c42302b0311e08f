"""One error shape everywhere: RFC 9457 problem details (`application/problem+json`) with `code`
and `field` members (processing/lib/problems.py). Every exception a view lets out is converted
here, so code that raises DRF exceptions, Darkroom's errors (which carry their answer,
processing/lib/errors.py) or Http404 needs nothing else."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from processing.lib import problems
from processing.lib.errors import DarkroomError, PortRefused, ProcessingError, RefusedAddress
from processing.lib.outages import outage_of

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


# A serializer's URL field refused by the address policy (processing/lib/errors.py): its status.
REFUSED_DESTINATIONS = {error.code: error.status for error in (RefusedAddress, PortRefused)}


def darkroom_error_response(error: DarkroomError) -> Response:
    """The answer its class carries (processing/lib/problems.py), as a DRF response."""
    if isinstance(error, ProcessingError) and error.detail != error.message:  # the caller reads the message
        logger.info("refused %s: %s", error.code, error.detail, extra={"code": error.code})  # operators the detail
    return Response(
        problems.problem_of(error),
        status=error.status,
        headers=error.problem_headers(),
        content_type=problems.MEDIA_TYPE,
    )


def exception_handler(exc, context):
    down = outage_of(exc)
    if down is not None:
        return outage_response(down)
    if isinstance(exc, DarkroomError):
        return darkroom_error_response(exc)
    if isinstance(exc, RequestDataTooBig):  # raised while the body is parsed
        return error_response(code="too_large", message=str(exc), http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a malformed multipart body
        return error_response(code="bad_request", message=str(exc), http_status=status.HTTP_400_BAD_REQUEST)
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
    if request.path.startswith("/api/"):
        return problems.problem_response(code="not_found", detail=f"no such endpoint: {request.path}", status=404)
    return page_not_found(request, exception)


def outage_response(down: str):
    """503 with Retry-After, in the problem shape: the database or Redis is away for now."""
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
    down = outage_of(sys.exc_info()[1])
    if down is not None:
        return outage_response(down)
    if request.path.startswith("/api/"):
        return problems.problem_response(code="server_error", detail="internal error", status=500)
    return server_error(request)
