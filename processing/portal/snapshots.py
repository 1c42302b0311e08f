"""What the progress bars read: a batch's and its jobs' state, as JSON-ready dicts."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from processing.jobs import selectors
from processing.jobs.models import Batch, Job
from processing.jobs.states import JobState


def _seconds_left(elapsed_s: float, fraction_done: float) -> float | None:
    if fraction_done <= 0 or fraction_done >= 1:
        return None
    return round(elapsed_s * (1 - fraction_done) / fraction_done, 1)


def job_snapshot(job: Job) -> dict:
    running_s = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    result = job.result or {}
    return {
        "id": str(job.pk),
        "record": job.record_id,
        "kind": job.kind,
        "state": job.state,
        "percent": job.progress_percent,
        "stage": job.progress_stage,
        "message": job.progress_message,
        "seconds_left": _seconds_left(running_s, job.progress_percent / 100) if job.state == JobState.RUNNING else None,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        # Only an image result replaces the thumbnail; any result can be downloaded.
        "result_url": default_storage.url(result["name"])
        if str(result.get("content_type", "")).startswith("image/")
        else None,
        "download_url": reverse("portal:job-download", args=[job.pk]) if result.get("name") else None,
        # What the grid shows: the small preview of this result, once the thumbnail actor made it.
        "thumbnail_url": _result_thumbnail_url(job, result),
    }


def _result_thumbnail_url(job: Job, result: dict) -> str | None:
    record = job.record if job.record_id else None
    if record is None or not record.processed_thumbnail or record.processed.name != result.get("name"):
        return None
    return record.processed_thumbnail.url


def batch_snapshot(batch: Batch) -> dict:
    progress = selectors.batch_progress(batch=batch)
    jobs = [job_snapshot(job) for job in selectors.batch_jobs(batch=batch)]
    failures = sorted({j["error"]["message"] for j in jobs if j["state"] == JobState.FAILED and j["error"]})
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
        "failure_reasons": failures,
        "jobs": jobs,
        "download_url": reverse("portal:batch-download", args=[batch.pk]),
        "status_url": reverse("portal:batch-status", args=[batch.pk]),
    }
