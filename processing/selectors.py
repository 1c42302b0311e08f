"""Reads of jobs and batches. Every read is scoped by a vendor."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from vendors.models import Vendor

from .models import Batch, Job


def job_list(*, vendor: Vendor) -> QuerySet[Job]:
    return Job.objects.filter(vendor=vendor)


def job_get(*, vendor: Vendor, job_id: uuid.UUID | str) -> Job | None:
    try:
        return job_list(vendor=vendor).filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


def batch_get(*, vendor: Vendor, batch_id: uuid.UUID | str) -> Batch | None:
    try:
        return Batch.objects.filter(vendor=vendor, pk=uuid.UUID(str(batch_id))).first()
    except ValueError:
        return None


def queue_stats(*, vendor: Vendor | None = None) -> dict[str, dict[str, int]]:
    """Per kind: waiting (admissible now), delayed (retry backoff or a paused vendor),
    dispatched (handed to Dramatiq, not started), active, completed, failed, cancelled, total.
    With a vendor, only that vendor's jobs are counted."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from .processors import PROCESSORS
    from .states import JobState

    now = timezone.now()
    jobs = Job.objects.all() if vendor is None else Job.objects.filter(vendor=vendor)
    undispatched = Q(state=JobState.QUEUED, dispatched_at__isnull=True)
    held = Q(not_before__gt=now) | Q(vendor__is_paused=True)
    rows = (
        jobs.order_by()
        .values("kind")
        .annotate(
            waiting=Count("pk", filter=undispatched & ~held),
            delayed=Count("pk", filter=undispatched & held),
            dispatched=Count("pk", filter=Q(state=JobState.QUEUED, dispatched_at__isnull=False)),
            active=Count("pk", filter=Q(state=JobState.RUNNING)),
            completed=Count("pk", filter=Q(state=JobState.SUCCEEDED)),
            failed=Count("pk", filter=Q(state=JobState.FAILED)),
            cancelled=Count("pk", filter=Q(state=JobState.CANCELLED)),
            total=Count("pk"),
        )
    )
    empty = dict.fromkeys(
        ("waiting", "delayed", "dispatched", "active", "completed", "failed", "cancelled", "total"), 0
    )
    stats = {kind: dict(empty) for kind in PROCESSORS}
    for row in rows:
        stats[row.pop("kind")] = row
    return stats


def job_filter(*, vendor: Vendor, state: str | None = None, kind: str | None = None) -> QuerySet[Job]:
    """The vendor's jobs, newest first, narrowed by state and kind when given."""
    jobs = job_list(vendor=vendor).select_related("record")
    if state:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


def batch_list(*, vendor: Vendor, project_id: int | None = None, unfinished: bool = False) -> QuerySet[Batch]:
    """The vendor's batches, newest first, each with its `failed_count`; with a project, those
    with a record in it."""
    from django.db.models import Count, Q

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


def latest_jobs_by_record(*, vendor: Vendor, record_ids: list[int]) -> dict[int, Job]:
    """Each record's most recent job, for showing its state next to it."""
    latest: dict[int, Job] = {}
    for job in job_list(vendor=vendor).filter(record_id__in=record_ids).order_by("record_id", "-created_at"):
        latest.setdefault(job.record_id, job)
    return latest


def queue_throughput(*, window_s: int = 3600) -> dict[str, dict[str, float]]:
    """Per kind: jobs finished in the last `window_s` (completed, failed) and completed per minute."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from .processors import PROCESSORS
    from .states import JobState

    since = timezone.now() - timedelta(seconds=window_s)
    rows = (
        Job.objects.filter(finished_at__gte=since)
        .order_by()
        .values("kind")
        .annotate(
            completed=Count("pk", filter=Q(state=JobState.SUCCEEDED)),
            failed=Count("pk", filter=Q(state=JobState.FAILED)),
        )
    )
    stats = {kind: {"completed": 0, "failed": 0, "per_minute": 0.0} for kind in PROCESSORS}
    for row in rows:
        stats[row["kind"]] = {
            "completed": row["completed"],
            "failed": row["failed"],
            "per_minute": round(row["completed"] * 60 / window_s, 2),
        }
    return stats


def queue_oldest_waiting_age_s() -> dict[str, float | None]:
    """Per kind: seconds since the oldest job still waiting to start was created (None if none)."""
    from django.db.models import Min
    from django.utils import timezone

    from .processors import PROCESSORS
    from .states import JobState

    now = timezone.now()
    ages: dict[str, float | None] = dict.fromkeys(PROCESSORS)
    rows = Job.objects.filter(state=JobState.QUEUED).order_by().values("kind").annotate(oldest=Min("created_at"))
    for row in rows:
        ages[row["kind"]] = round((now - row["oldest"]).total_seconds(), 1)
    return ages


def worker_list(*, lost_after_s: float | None = None) -> list[dict]:
    """Every worker process seen recently (processing/workers.py), newest heartbeat first,
    each with `lost` set when it has been silent for longer than the threshold."""
    import time

    from django.conf import settings

    from .workers import read_heartbeats

    threshold = settings.WORKER_LOST_AFTER_S if lost_after_s is None else lost_after_s
    now = time.time()
    workers = []
    for record in read_heartbeats():
        silent_s = max(0.0, now - record["heartbeat_at"])
        workers.append({**record, "silent_s": round(silent_s, 1), "lost": silent_s > threshold})
    return sorted(workers, key=lambda w: (w["lost"], w["host"], w["pid"]))


def job_result_document(*, job: Job, max_bytes: int = 64 * 1024) -> str | None:
    """The text of a job's JSON result (cut at `max_bytes`), or None if it has none."""
    from django.core.files.storage import default_storage

    result = job.result or {}
    if result.get("content_type") != "application/json" or not result.get("name"):
        return None
    try:
        with default_storage.open(result["name"], "rb") as handle:
            return handle.read(max_bytes).decode("utf-8", errors="replace")
    except OSError:
        return None


# --- Operator reads (the darkroom command, /metrics): across every vendor, for staff only.


def ops_job_get(*, job_id: uuid.UUID | str) -> Job | None:
    try:
        return Job.objects.select_related("vendor").filter(pk=uuid.UUID(str(job_id))).first()
    except ValueError:
        return None


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
    from django.db.models import Count

    rows = Job.objects.order_by().values_list("kind", "state", "vendor__slug").annotate(n=Count("pk"))
    return [(kind, state, vendor, n) for kind, state, vendor, n in rows]


def ops_queue_oldest_age_s() -> dict[str, float]:
    """Per kind, the age in seconds of the oldest job still waiting to start (queued)."""
    from django.db.models import Min
    from django.utils import timezone

    from .states import JobState

    now = timezone.now()
    rows = Job.objects.filter(state=JobState.QUEUED).order_by().values_list("kind").annotate(oldest=Min("created_at"))
    return {kind: max(0.0, (now - oldest).total_seconds()) for kind, oldest in rows}


def ops_recent_runs(*, window_s: int) -> QuerySet[Job]:
    """Jobs that finished after running, within the last `window_s` seconds."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(seconds=window_s)
    return Job.objects.filter(finished_at__gte=since, started_at__isnull=False)


def ops_duration_buckets(*, window_s: int, bounds: tuple[float, ...]) -> dict[tuple[str, str], dict]:
    """Per (kind, final state) of jobs finished in the window: how many ran at most each bound
    (seconds, cumulative), the count and the sum of seconds. Computed in the database."""
    from datetime import timedelta

    from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

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
    from django.db.models import F, Sum

    from .states import JobState

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


def job_get_by_idempotency_key(*, vendor: Vendor, key: str) -> Job | None:
    return Job.objects.filter(vendor=vendor, idempotency_key=key).first() if key else None


def batch_job_ids(*, batch: Batch) -> list[uuid.UUID]:
    return list(Job.objects.filter(batch=batch).order_by("created_at", "pk").values_list("pk", flat=True))


def batch_progress(*, batch: Batch) -> dict:
    """Counts by state, percent finished, and an estimate of the seconds left from the rate at
    which the batch's jobs have finished since its first one started (None before one has)."""
    from django.db.models import Count, Min, Q
    from django.utils import timezone

    from .states import JobState

    counts = Job.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(state=JobState.QUEUED)),
        running=Count("pk", filter=Q(state=JobState.RUNNING)),
        succeeded=Count("pk", filter=Q(state=JobState.SUCCEEDED)),
        failed=Count("pk", filter=Q(state=JobState.FAILED)),
        cancelled=Count("pk", filter=Q(state=JobState.CANCELLED)),
        first_started=Min("started_at"),
    )
    first_started = counts.pop("first_started")
    total = counts["total"]
    finished = counts["succeeded"] + counts["failed"] + counts["cancelled"]
    left = total - finished
    eta_s = None
    if left == 0:
        eta_s = 0.0
    elif first_started is not None and finished > counts["cancelled"]:
        # Cancelled jobs finish instantly: they say nothing about the processing rate.
        processed = finished - counts["cancelled"]
        elapsed = max((timezone.now() - first_started).total_seconds(), 0.001)
        eta_s = round(left * elapsed / processed, 1)
    return {
        **counts,
        "percent": round(100 * finished / total, 1) if total else 100.0,
        "eta_s": eta_s,
        "finished_at": batch.finished_at,
    }


def backlog_eta_s(*, kind: str) -> float | None:
    """Seconds until every waiting or running job of `kind` is done (called right after jobs
    are added, the time until the last of them is): the backlog at the average duration of the
    kind's last 50 successes, over its queue capacity. None until a job of that kind succeeded."""
    from django.conf import settings
    from django.db.models import F

    from .states import ACTIVE, JobState

    durations = list(
        Job.objects.filter(kind=kind, state=JobState.SUCCEEDED, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .annotate(duration=F("finished_at") - F("started_at"))
        .values_list("duration", flat=True)[:50]
    )
    if not durations:
        return None
    average_s = sum(d.total_seconds() for d in durations) / len(durations)
    backlog = Job.objects.filter(kind=kind, state__in=ACTIVE).count()
    capacity = settings.JOB_QUEUE_CAPACITY.get(kind, settings.JOB_QUEUE_CAPACITY_DEFAULT) or 1
    return round(backlog * average_s / capacity, 1)
