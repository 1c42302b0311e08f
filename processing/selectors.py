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
