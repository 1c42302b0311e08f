"""Operator reads (the darkroom command, /metrics): across every vendor, for staff only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from processing.jobs.charges import PIPELINE, step_kinds
from processing.jobs.models import Batch, Job, Lane
from processing.jobs.states import JobState


def ops_job_get(*, job_id: uuid.UUID | str) -> Job | None:
    try:
        return Job.objects.select_related("vendor").filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


def ops_job_step_kinds(*, job_id: uuid.UUID | str, kind: str) -> list[str]:
    """The kinds of work a job will do (a pipeline's steps), for the engine's rate limits; []
    when the job is gone. Only a pipeline has steps to read: any other kind costs no query."""
    if kind != PIPELINE:
        return [kind]
    job = Job.objects.filter(pk=job_id).select_related("batch").only("kind", "params", "batch__params").first()
    if job is None:
        return []
    return step_kinds(kind=job.kind, params=job.run_params)


def ops_jobs_awaiting_start(*, dispatched_before) -> list[tuple[uuid.UUID, str, int]]:
    """(job id, kind, dispatch count) of the jobs handed to Dramatiq before `dispatched_before`
    that no worker has started: in-flight rows only, as many as the queue capacities allow."""
    rows = Job.objects.filter(lane=Lane.IN_FLIGHT, state=JobState.QUEUED, dispatched_at__lt=dispatched_before)
    return list(rows.order_by().values_list("pk", "kind", "dispatches"))


def ops_batch_get(*, batch_id: uuid.UUID | str) -> Batch | None:
    try:
        return Batch.objects.select_related("vendor").filter(pk=uuid.UUID(str(batch_id))).first()
    except ValueError:
        return None


def ops_job_list(*, vendor_slug: str | None = None, state: str | None = None, kind: str | None = None) -> QuerySet[Job]:
    """Every vendor's jobs, newest first, narrowed by vendor slug, state and kind when given."""
    jobs = Job.objects.select_related("vendor").order_by("-created_at")
    if vendor_slug:
        jobs = jobs.filter(vendor__slug=vendor_slug)
    if state:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


def ops_job_counts() -> list[tuple[str, str, str, int]]:
    """(kind, state, vendor slug, jobs) for every combination that has jobs."""

    rows = Job.objects.order_by().values_list("kind", "state", "vendor__slug").annotate(n=Count("pk"))
    return [(kind, state, vendor, n) for kind, state, vendor, n in rows]


def ops_queue_oldest_age_s() -> dict[str, float]:
    """Per kind, the age in seconds of the oldest job still waiting to start (queued)."""

    now = timezone.now()
    rows = Job.objects.filter(state=JobState.QUEUED).order_by().values_list("kind").annotate(oldest=Min("created_at"))
    return {kind: max(0.0, (now - oldest).total_seconds()) for kind, oldest in rows}


def ops_result_names(*, chunk: int = 1000) -> Iterator[str]:
    """Every result file a job names, of every vendor, in chunks of rows (operators only)."""
    last = None
    while True:
        rows = Job.objects.filter(result__isnull=False).order_by("pk")
        rows = list((rows.filter(pk__gt=last) if last else rows).values_list("pk", "result")[:chunk])
        if not rows:
            return
        for pk, result in rows:
            last = pk
            if (result or {}).get("name"):
                yield result["name"]
