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
