"""Reads of a vendor's jobs. Every read is scoped by a vendor."""

from __future__ import annotations

import uuid

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from processing.jobs.models import Job
from vendors.models import Vendor


def job_list(*, vendor: Vendor) -> QuerySet[Job]:
    return Job.objects.filter(vendor=vendor)


def job_get(*, vendor: Vendor, job_id: uuid.UUID | str) -> Job | None:
    try:
        return job_list(vendor=vendor).filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


def job_filter(*, vendor: Vendor, state: str | None = None, kind: str | None = None) -> QuerySet[Job]:
    """The vendor's jobs, newest first, narrowed by state and kind when given."""
    jobs = job_list(vendor=vendor).select_related("record")
    if state:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


def latest_jobs_by_record(*, vendor: Vendor, record_ids: list[int]) -> dict[int, Job]:
    """Each record's most recent job, for showing its state next to it."""
    latest: dict[int, Job] = {}
    for job in job_list(vendor=vendor).filter(record_id__in=record_ids).order_by("record_id", "-created_at"):
        latest.setdefault(job.record_id, job)
    return latest


def job_ai_usage(*, job: Job) -> dict | None:
    """What the AI call(s) of a succeeded ai_endpoint job cost, as its result stores it (the usage
    ledger reads this): {"provider", "endpoint", "model", "calls", "input_tokens",
    "output_tokens", "cached_input_tokens", "cache_write_input_tokens"}; a count is None when the
    provider did not report it. None for any other job."""
    return (job.result or {}).get("usage")


def job_result_document(*, job: Job, max_bytes: int = 64 * 1024) -> str | None:
    """The text of a job's JSON result (cut at `max_bytes`), or None if it has none."""

    result = job.result or {}
    if result.get("content_type") != "application/json" or not result.get("name"):
        return None
    try:
        with default_storage.open(result["name"], "rb") as handle:
            return handle.read(max_bytes).decode("utf-8", errors="replace")
    except OSError:
        return None
