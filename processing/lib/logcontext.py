"""Which job and which request a log line belongs to. The runner enters `job_log_context(fields)`
for the duration of a job, the request-id middleware `request_id_begin(request_id)` until the response
is closed; `JobContextFilter` (installed on the console handler in LOGGING) copies
job_id, vendor, kind, attempt and request_id into every record emitted meanwhile, from any logger
and any library, so JSON logs can be searched by job or request without each call site passing
`extra=`."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("job_id", "vendor", "kind", "attempt", "request_id")

# A contextvar, not a thread-local: each Dramatiq worker thread, and each asyncio task, sees its own.
_current_job: ContextVar[dict[str, object] | None] = ContextVar("darkroom_current_job", default=None)
_current_request_id: ContextVar[str | None] = ContextVar("darkroom_current_request_id", default=None)

# What a caller may send as X-Request-ID; anything else is replaced by one of ours.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_or_new(given: str | None) -> str:
    """The caller's request id if it is sane, else a fresh uuid4 hex."""
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


@contextmanager
def job_log_context(fields: dict[str, object]) -> Iterator[dict[str, object]]:
    """`fields`: job_id, vendor, kind and attempt of the job being run (and the request_id that
    created it, if any)."""
    token = _current_job.set(fields)
    try:
        yield fields
    finally:
        _current_job.reset(token)


def request_id_begin(request_id: str) -> None:
    """From here on, lines of this thread or task carry `request_id`, until `request_id_end`. Not
    a `with` block: Django logs a request's 4xx line after the middleware has returned."""
    _current_request_id.set(request_id)


def request_id_end() -> None:
    _current_request_id.set(None)


def current_job_fields() -> dict[str, object] | None:
    return _current_job.get()


def current_request_id() -> str | None:
    return _current_request_id.get()


class JobContextFilter(logging.Filter):
    """Adds the current job's fields and request id to a record; a field the call site set
    itself is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _current_job.get()
        if fields:
            for name, value in fields.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        request_id = _current_request_id.get()
        if request_id and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
