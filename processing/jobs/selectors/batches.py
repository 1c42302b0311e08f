"""Reads of a vendor's batches and their progress."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from processing.jobs.models import Batch, Job
from processing.jobs.selectors.stats import backlog_eta_s
from processing.jobs.states import ACTIVE, JobState
from vendors.models import Vendor


def batch_get(*, vendor: Vendor, batch_id: uuid.UUID | str) -> Batch | None:
    try:
        return Batch.objects.filter(vendor=vendor, pk=uuid.UUID(str(batch_id))).first()
    except ValueError:
        return None


def batch_list(*, vendor: Vendor, project_id: int | None = None, unfinished: bool = False) -> QuerySet[Batch]:
    """The vendor's batches, newest first, each with its `failed_count`; with a project, those
    with a record in it."""

    batches = Batch.objects.filter(vendor=vendor).annotate(failed_count=Count("jobs", filter=Q(jobs__state="failed")))
    if project_id is not None:
        batches = batches.filter(
            pk__in=Job.objects.filter(vendor=vendor, record__project_id=project_id).values("batch")
        )
    if unfinished:
        batches = batches.filter(finished_at__isnull=True)
    return batches


def batch_jobs(*, batch: Batch) -> QuerySet[Job]:
    return Job.objects.filter(vendor_id=batch.vendor_id, batch=batch).select_related("record").order_by("created_at")


def batch_jobs_of_newest_records(*, batch: Batch, limit: int) -> list[Job]:
    """The batch's jobs on its `limit` newest records, with them: a page showing a project's
    `limit` newest records shows no other job of a batch of that project's records."""
    return list(
        batch_jobs(batch=batch).filter(record__isnull=False).order_by("-record__created_at", "-record_id")[:limit]
    )


def batch_failure_reasons(*, batch: Batch, limit: int = 10) -> list[str]:
    """The different reasons the batch's jobs failed for, in order, at most `limit` of them."""
    reasons = (
        Job.objects.filter(vendor_id=batch.vendor_id, batch=batch, state=JobState.FAILED)
        .exclude(error_code="")
        .order_by("error_message")
        .values_list("error_message", flat=True)
        .distinct()
    )
    return list(reasons[:limit])


def batch_job_ids(*, batch: Batch) -> list[uuid.UUID]:
    return list(Job.objects.filter(batch=batch).order_by("created_at", "pk").values_list("pk", flat=True))


def batch_progress(*, batch: Batch) -> dict[str, Any]:
    """Counts by state, percent done (running jobs count by their own progress, so the bar moves
    before the first job ends), and an estimate of the seconds left: the batch's unfinished jobs
    and the older jobs of its kind still waiting ahead of them, at the kind's observed throughput
    (None before a job of the kind has succeeded)."""

    running = Q(state=JobState.RUNNING)
    counts = Job.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(state=JobState.QUEUED)),
        running=Count("pk", filter=running),
        succeeded=Count("pk", filter=Q(state=JobState.SUCCEEDED)),
        failed=Count("pk", filter=Q(state=JobState.FAILED)),
        cancelled=Count("pk", filter=Q(state=JobState.CANCELLED)),
        running_percent=Sum("progress_percent", filter=running),
    )
    running_units = (counts.pop("running_percent") or 0) / 100
    total = counts["total"]
    finished = counts["succeeded"] + counts["failed"] + counts["cancelled"]
    left = total - finished
    eta_s = 0.0 if left == 0 else None
    if left:
        ahead = 0
        if counts["queued"]:  # jobs of the kind created before the batch and not finished yet
            ahead = Job.objects.filter(kind=batch.kind, state__in=ACTIVE, created_at__lt=batch.created_at).count()
        eta_s = backlog_eta_s(kind=batch.kind, ahead=ahead + left)
    return {
        **counts,
        "percent": round(100 * (finished + running_units) / total, 1) if total else 100.0,
        "eta_s": eta_s,
        "finished_at": batch.finished_at,
    }
