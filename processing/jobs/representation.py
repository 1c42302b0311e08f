"""A job and a batch as clients see them, JSON-ready: the one shape of each that the REST API,
the event streams and the webhooks send. The API's JobOutput and BatchOutput serializers
declare them for the schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from processing.jobs.models import Batch, Job
from processing.jobs.selectors.batches import batch_progress
from processing.lib.media import media_url


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def result_url(name: str, *, absolute: Callable[[str], str] | None = None) -> str:
    """Where a stored file can be fetched, under the deployment's private delivery."""
    return media_url(name, absolute=absolute)


def job_representation(job: Job, *, absolute: Callable[[str], str] | None = None) -> dict[str, Any]:
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
            # An AI endpoint's JSON answer, inline when small enough, and what it cost.
            **{key: result[key] for key in ("answer", "usage") if key in result},
        }
        if result
        else None,
        "record": job.record_id,
        "batch": str(job.batch_id) if job.batch_id else None,
        "created_at": _timestamp(job.created_at),
        "started_at": _timestamp(job.started_at),
        "finished_at": _timestamp(job.finished_at),
    }


def batch_representation(batch: Batch) -> dict[str, Any]:
    """What the batch is and how far it got: counts by state, percent and eta_s come from
    batch_progress, the one place they are computed."""
    progress = batch_progress(batch=batch)
    return {
        "id": str(batch.pk),
        "kind": batch.kind,
        "priority": batch.get_priority_display(),
        "total": progress["total"],
        "queued": progress["queued"],
        "running": progress["running"],
        "succeeded": progress["succeeded"],
        "failed": progress["failed"],
        "cancelled": progress["cancelled"],
        "percent": progress["percent"],
        "eta_s": progress["eta_s"],
        "created_at": _timestamp(batch.created_at),
        "finished_at": _timestamp(batch.finished_at),
    }
