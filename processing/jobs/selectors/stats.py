"""Queue figures per kind, for a vendor (their own jobs) or for operators (every vendor)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from processing.jobs.kinds import PROCESSORS
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


RATE_SAMPLE = 200  # finished jobs a kind's throughput is measured over
IDLE_GAP_FACTOR = 10  # a gap between two finishes this many times the median is idle time


def kind_throughput_per_s(*, kind: str) -> float | None:
    """Jobs of `kind` finished per second while the kind was busy, from its last RATE_SAMPLE
    successes: their count over the time between their finishes, idle gaps left out. Not from
    run times: admission, queues and the database bound short jobs far more than their run.
    None until two jobs of the kind succeeded."""
    finishes = list(
        Job.objects.filter(state=JobState.SUCCEEDED, kind=kind, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)[:RATE_SAMPLE]
    )
    gaps = sorted((newer - older).total_seconds() for newer, older in zip(finishes, finishes[1:], strict=False))
    if not gaps:
        return None
    idle = IDLE_GAP_FACTOR * max(gaps[len(gaps) // 2], 0.001)
    busy_s = sum(gap for gap in gaps if gap <= idle)
    return len(gaps) / max(busy_s, 0.001)


def backlog_eta_s(*, kind: str, ahead: int | None = None) -> float | None:
    """Seconds until `ahead` jobs of `kind` are done (by default every waiting or running one:
    called right after jobs are added, the time until the last of them is), at the kind's
    observed throughput. None until a job of that kind succeeded."""

    rate = kind_throughput_per_s(kind=kind)
    if rate is None:
        return None
    if ahead is None:
        ahead = Job.objects.filter(kind=kind, state__in=ACTIVE).count()
    return round(ahead / rate, 1)


def job_eta_s(*, job: Job) -> float | None:
    """Seconds until a running job finishes, from its own progress: the time it has run, times
    what is left over what is done. None unless it is running and part-way."""
    fraction_done = job.progress_percent / 100
    if job.state != JobState.RUNNING or job.started_at is None or not 0 < fraction_done < 1:
        return None
    running_s = (timezone.now() - job.started_at).total_seconds()
    return round(running_s * (1 - fraction_done) / fraction_done, 1)
