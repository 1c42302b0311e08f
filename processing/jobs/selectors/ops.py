"""Operator reads (the darkroom command, /metrics): across every vendor, for staff only."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from processing.jobs.charges import step_kinds
from processing.jobs.models import Batch, Job
from processing.jobs.states import JobState


def ops_job_get(*, job_id: uuid.UUID | str) -> Job | None:
    try:
        return Job.objects.select_related("vendor").filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


def ops_job_step_kinds(*, job_id: uuid.UUID | str) -> list[str]:
    """The kinds of work a job will do (a pipeline's steps), for the engine's rate limits; []
    when the job is gone."""
    job = Job.objects.filter(pk=job_id).select_related("batch").only("kind", "params", "batch__params").first()
    if job is None:
        return []
    return step_kinds(kind=job.kind, params=job.run_params)


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


def ops_recent_runs(*, window_s: int) -> QuerySet[Job]:
    """Jobs that finished after running, within the last `window_s` seconds."""

    since = timezone.now() - timedelta(seconds=window_s)
    return Job.objects.filter(finished_at__gte=since, started_at__isnull=False)


def ops_duration_buckets(*, window_s: int, bounds: tuple[float, ...]) -> dict[tuple[str, str], dict]:
    """Per (kind, final state) of jobs finished in the window: how many ran at most each bound
    (seconds, cumulative), the count and the sum of seconds. Computed in the database."""

    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    counts = {f"le_{i}": Count("pk", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(bounds)}
    rows = (
        ops_recent_runs(window_s=window_s)
        .order_by()
        .alias(duration=duration)
        .values("kind", "state")
        .annotate(count=Count("pk"), total=Sum("duration"), **counts)
    )
    return {
        (row["kind"], row["state"]): {
            "buckets": [row[f"le_{i}"] for i in range(len(bounds))],
            "count": row["count"],
            "sum_s": row["total"].total_seconds() if row["total"] is not None else 0.0,
        }
        for row in rows
    }


def ops_recent_retries(*, window_s: int) -> dict[str, int]:
    """Per kind: attempts beyond the first among jobs finished in the window, plus jobs now
    waiting out a retry backoff."""

    retries: dict[str, int] = {}
    finished = (
        ops_recent_runs(window_s=window_s)
        .filter(attempts__gt=1)
        .order_by()
        .values_list("kind")
        .annotate(n=Sum(F("attempts") - 1))
    )
    waiting = (
        Job.objects.filter(state=JobState.QUEUED, attempts__gt=0)
        .order_by()
        .values_list("kind")
        .annotate(n=Sum("attempts"))
    )
    for kind, n in [*finished, *waiting]:
        retries[kind] = retries.get(kind, 0) + int(n or 0)
    return retries
