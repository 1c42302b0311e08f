"""Which job a log line belongs to. The runner enters `job_log_context(fields)` for the duration
of a job; `JobContextFilter` (installed on the console handler in LOGGING) copies job_id, vendor,
kind and attempt into every record emitted meanwhile, from any logger and any library, so JSON
logs can be searched by job without each call site passing `extra=`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("job_id", "vendor", "kind", "attempt")

# A contextvar, not a thread-local: each Dramatiq worker thread, and each asyncio task, sees its own.
_current_job: ContextVar[dict[str, object] | None] = ContextVar("darkroom_current_job", default=None)


@contextmanager
def job_log_context(fields: dict[str, object]) -> Iterator[dict[str, object]]:
    """`fields`: job_id, vendor, kind and attempt of the job being run."""
    token = _current_job.set(fields)
    try:
        yield fields
    finally:
        _current_job.reset(token)


def current_job_fields() -> dict[str, object] | None:
    return _current_job.get()


class JobContextFilter(logging.Filter):
    """Adds the current job's fields to a record; a field the call site set itself is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _current_job.get()
        if fields:
            for name, value in fields.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True
