"""RFC 9457 problem details: the one shape every error of the API and the portal's scripts takes.

`type` is a relative URI per code (documented in docs/errors.md), `title` the same text for every
occurrence of that code; `code` and `field` are extension members clients key on.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from processing.lib.errors import DarkroomError

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "/api/problems/"


def problem_type(code: str) -> str:
    return f"{TYPE_PREFIX}{code}"


def problem_title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def problem(*, code: str, detail: str, status: int, field: str | None = None, **extensions: Any) -> dict[str, Any]:
    return {
        "type": problem_type(code),
        "title": problem_title(code),
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        **extensions,
    }


def problem_response(
    *, code: str, detail: str, status: int, field: str | None = None, **extensions: Any
) -> JsonResponse:
    """A plain Django response with the problem; DRF views go through the API's exception handler."""
    body = problem(code=code, detail=detail, status=status, field=field, **extensions)
    return JsonResponse(body, status=status, content_type=MEDIA_TYPE)


def problem_of(error: DarkroomError, *, detail: str | None = None) -> dict[str, Any]:
    """The answer to a request refused with `error`, from what its class carries. `detail`: the
    words to show instead of the error's own (the portal speaks to people)."""
    return problem(
        code=error.code,
        detail=detail or error.public_detail,
        status=error.status,
        field=error.field,
        **error.problem_extensions(),
    )


def error_response(error: DarkroomError, *, detail: str | None = None) -> JsonResponse:
    """problem_of as a plain Django response, with the error's headers (a 429's Retry-After)."""
    response = JsonResponse(problem_of(error, detail=detail), status=error.status, content_type=MEDIA_TYPE)
    for name, value in error.problem_headers().items():
        response[name] = value
    return response
