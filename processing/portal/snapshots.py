"""What the progress bars read: a batch's and its jobs' state, as JSON-ready dicts. Counts and
estimates come from the jobs core (batch_progress, job_eta_s); a poll reads no more jobs than
the project page's grid can show."""

from __future__ import annotations

from django.urls import reverse

from processing.jobs import selectors
from processing.jobs.models import Batch, Job
from processing.lib.media import media_url

# The most records the project page's grid shows, and so the most jobs a batch poll reads.
GRID_LIMIT = 500


def job_snapshot(job: Job) -> dict:
    result = job.result or {}
    return {
        "id": str(job.pk),
        "record": job.record_id,
        "kind": job.kind,
        "state": job.state,
        "percent": job.progress_percent,
        "stage": job.progress_stage,
        "message": job.progress_message,
        "seconds_left": selectors.job_eta_s(job=job),
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        # Only an image result replaces the thumbnail; any result can be downloaded.
        "result_url": media_url(result["name"]) if str(result.get("content_type", "")).startswith("image/") else None,
        "download_url": reverse("portal:job-download", args=[job.pk]) if result.get("name") else None,
        # What the grid shows: the small preview of this result, once the thumbnail actor made it.
        "thumbnail_url": _result_thumbnail_url(job, result),
    }


def _result_thumbnail_url(job: Job, result: dict) -> str | None:
    record = job.record if job.record_id else None
    if record is None or not record.processed_thumbnail or record.processed.name != result.get("name"):
        return None
    return media_url(record.processed_thumbnail.name)


def batch_snapshot(batch: Batch) -> dict:
    """The batch's progress, and its jobs on the cards the grid shows (the project's GRID_LIMIT
    newest records), whatever the batch's size."""
    progress = selectors.batch_progress(batch=batch)
    jobs = selectors.batch_jobs_of_newest_records(batch=batch, limit=GRID_LIMIT)
    finished = progress["succeeded"] + progress["failed"] + progress["cancelled"]
    return {
        "id": str(batch.pk),
        "kind": batch.kind,
        "total": progress["total"],
        "finished": finished,
        "succeeded": progress["succeeded"],
        "failed": progress["failed"],
        "cancelled": progress["cancelled"],
        "percent": round(progress["percent"]),
        "done": finished == progress["total"],
        "seconds_left": progress["eta_s"] if finished < progress["total"] else None,
        "failure_reasons": selectors.batch_failure_reasons(batch=batch) if progress["failed"] else [],
        "jobs": [job_snapshot(job) for job in jobs],
        "download_url": reverse("portal:batch-download", args=[batch.pk]),
        "status_url": reverse("portal:batch-status", args=[batch.pk]),
    }
