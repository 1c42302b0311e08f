"""Queue figures per kind, for a vendor (their own jobs) or for operators (every vendor)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from processing.jobs.kinds import PROCESSORS, queue_capacity
from processing.jobs.models import Job
from processing.jobs.states import ACTIVE, JobState
from vendors.models import Vendor


def queue_stats(*, vendor: Vendor | None = None) -> dict[str, dict[str, int]]:
    """Per kind: waiting (admissible now), delayed (retry backoff or a paused vendor),
    dispatched (handed to Dramatiq, not started), active, completed, failed, cancelled, total.
    With a vendor, only that vendor's jobs are counted."""

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

    now = timezone.now()
    ages: dict[str, float | None] = dict.fromkeys(PROCESSORS)
    rows = Job.objects.filter(state=JobState.QUEUED).order_by().values("kind").annotate(oldest=Min("created_at"))
    for row in rows:
        ages[row["kind"]] = round((now - row["oldest"]).total_seconds(), 1)
    return ages


def backlog_eta_s(*, kind: str) -> float | None:
    """Seconds until every waiting or running job of `kind` is done (called right after jobs
    are added, the time until the last of them is): the backlog at the average duration of the
    kind's last 50 successes, over its queue capacity. None until a job of that kind succeeded."""

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
    capacity = queue_capacity(kind) or 1
    return round(backlog * average_s / capacity, 1)
