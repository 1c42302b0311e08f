"""A job as clients see it, JSON-ready: the one shape the REST API, the event streams and the
webhooks send. The API's JobOutput serializer declares it for the schema and returns this."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.files.storage import default_storage

from processing.jobs.models import Job


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def result_url(name: str, *, absolute: Callable[[str], str] | None = None) -> str:
    url = default_storage.url(name)
    return absolute(url) if absolute is not None and url.startswith("/") else url


def job_representation(job: Job, *, absolute: Callable[[str], str] | None = None) -> dict:
    """`absolute` turns a site-relative URL (local media) into an absolute one."""
    result = job.result
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "state": job.state,
        "priority": job.priority_label,
        "progress": {"percent": job.progress_percent, "stage": job.progress_stage, "message": job.progress_message},
        "attempts": job.attempts,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "result": {
            "url": result_url(result["name"], absolute=absolute),
            "content_type": result["content_type"],
            "width": result["width"],
            "height": result["height"],
        }
        if result
        else None,
        "record": job.record_id,
        "batch": str(job.batch_id) if job.batch_id else None,
        "created_at": _timestamp(job.created_at),
        "started_at": _timestamp(job.started_at),
        "finished_at": _timestamp(job.finished_at),
    }
