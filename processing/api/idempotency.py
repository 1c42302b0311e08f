"""The Idempotency-Key header at the edge (draft-ietf-httpapi-idempotency-key-header): read the
key, fingerprint the request, claim the key before anything is charged, and answer a replay with
what the first request made. The rule itself lives in processing/jobs/services/idempotency.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from processing.jobs import services
from processing.jobs.models import IdempotencyKey
from vendors.models import Vendor

HEADER = "Idempotency-Key"
KEY_MAX = 255

PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Repeating a request with the same key (a string, quoted or not) answers with what the first "
        "request made, without charging it again. The same key with a different request: 422; while "
        "the first request with it is still being processed: 409. Keys are kept as long as their job "
        "(finished jobs' retention), and at most as long as the longest retention."
    ),
)


class IdempotencyKeyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_progress"
    default_detail = "a request with this Idempotency-Key is still being processed; try again shortly"


class IdempotencyKeyMismatch(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_mismatch"
    default_detail = "this Idempotency-Key was used with a different request"


def key_of(request) -> str | None:
    """The header's key; the draft sends it as a structured-field string ("..."), bare is taken too."""
    key = (request.headers.get(HEADER) or "").strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if len(key) > KEY_MAX:
        raise ValidationError({HEADER: f"at most {KEY_MAX} characters"})
    return key or None


def _canonical(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)  # stored after this
        return {"file_sha256": digest.hexdigest()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request, values: dict[str, Any]) -> str:
    """sha256 of the method, the path and the validated content, uploads by their bytes' hash."""
    content = json.dumps(_canonical(values), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method}\n{request.path}\n{content}".encode()).hexdigest()


def claim(request, *, vendor: Vendor, values: dict[str, Any]) -> IdempotencyKey | None:
    """None without a key; else the key's row: in progress (ours) or done (a replay)."""
    key = key_of(request)
    if key is None:
        return None
    try:
        return services.idempotency_key_claim(vendor=vendor, key=key, fingerprint=fingerprint(request, values))
    except services.IdempotencyKeyInProgress:
        raise IdempotencyKeyInProgress() from None
    except services.IdempotencyKeyMismatch:
        raise IdempotencyKeyMismatch() from None


@contextmanager
def released_on_failure(key: IdempotencyKey | None) -> Iterator[None]:
    """If the work fails, nothing was made: the key may be used again."""
    try:
        yield
    except BaseException:
        if key is not None:
            services.idempotency_key_release(claim=key)
        raise


def replayed(key: IdempotencyKey | None, made: str) -> Any:
    """What the first request with this key made (`made`: "job" or "batch"), or None to go on."""
    if key is None or key.state != IdempotencyKey.State.DONE:
        return None
    first = getattr(key, made)
    if first is None:  # a key older than fingerprints, first used on the other endpoint
        raise IdempotencyKeyMismatch()
    return first
