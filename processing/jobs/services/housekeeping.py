"""Stalled and lost jobs back in line; finished jobs removed after their retention."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from processing.jobs import events, signals
from processing.jobs.models import IdempotencyKey, Job, Lane
from processing.jobs.services.transitions import CHUNK
from processing.jobs.states import JobState
from vendors.models import Record

logger = logging.getLogger(__name__)


def jobs_recover_stalled() -> int:
    """Running jobs without a heartbeat for JOB_STALL_TIMEOUT_S go back to the queue; queued
    jobs handed to Dramatiq that no worker started in that time are handed over again."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALL_TIMEOUT_S)
    stalled = Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=cutoff)
    recovered = 0
    for job_id, vendor_id, batch_id in list(stalled.values_list("pk", "vendor_id", "batch_id")):
        if Job.objects.filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=cutoff).update(
            state=JobState.QUEUED,
            lane=Lane.WAITING,
            run_token=None,
            dispatched_at=None,
            progress_stage="requeued_after_stall",
        ):
            recovered += 1
            events.publish_change(job_id=job_id, batch_id=batch_id, vendor_id=vendor_id)
            logger.warning(
                "job %s of vendor %s stalled (no heartbeat since before %s); queued again",
                job_id,
                vendor_id,
                cutoff.isoformat(),
                extra={"job_id": str(job_id), "vendor": vendor_id},
            )
    # Read first, then update by key: an UPDATE over the in-flight range would lock every row it
    # passes and deadlock with the workers finishing those jobs.
    lost_rows = Job.objects.filter(lane=Lane.IN_FLIGHT, state=JobState.QUEUED, dispatched_at__lt=cutoff)
    lost = lost_rows.filter(pk__in=list(lost_rows.values_list("pk", flat=True)[:CHUNK])).update(
        lane=Lane.WAITING, dispatched_at=None
    )
    return recovered + lost


@dataclass(frozen=True)
class PurgeReport:
    jobs: int
    files: int
    idempotency_keys: int = 0


def jobs_purge_finished(*, now: datetime | None = None) -> PurgeReport:
    now = now or timezone.now()
    ages = {
        JobState.SUCCEEDED: timedelta(hours=settings.JOB_RETENTION_SUCCEEDED_H),
        JobState.FAILED: timedelta(hours=settings.JOB_RETENTION_FAILED_H),
        JobState.CANCELLED: timedelta(hours=settings.JOB_RETENTION_FAILED_H),
    }
    jobs = files = 0
    for state, age in ages.items():
        expired = Job.objects.filter(state=state, finished_at__lt=now - age)
        while chunk := list(expired.values_list("pk", "result")[:CHUNK]):
            files += _delete_unreferenced_results([result["name"] for _, result in chunk if result])
            # Their idempotency keys go with them (cascade): count the jobs alone.
            _, deleted = Job.objects.filter(pk__in=[pk for pk, _ in chunk]).delete()
            jobs += deleted.get(Job._meta.label, 0)
    keys = _purge_idempotency_keys(now=now)
    for receiver, failure in signals.retention_ran.send_robust(sender=Job, now=now):
        if isinstance(failure, Exception):
            logger.error("retention of %s failed: %r", receiver, failure, exc_info=failure)
    if jobs or keys:
        logger.info("retention removed %s finished jobs, %s result files, %s idempotency keys", jobs, files, keys)
    return PurgeReport(jobs=jobs, files=files, idempotency_keys=keys)


def _purge_idempotency_keys(*, now: datetime) -> int:
    """A key goes with its job (on delete cascade); a batch's key, or one whose job is still
    kept, after the longest job retention."""
    longest = timedelta(hours=max(settings.JOB_RETENTION_SUCCEEDED_H, settings.JOB_RETENTION_FAILED_H))
    removed = 0
    expired = IdempotencyKey.objects.filter(created_at__lt=now - longest)
    while chunk := list(expired.values_list("pk", flat=True)[:CHUNK]):
        removed += IdempotencyKey.objects.filter(pk__in=chunk).delete()[0]
    return removed


def _delete_unreferenced_results(names: list[str]) -> int:
    kept = set(Record.objects.filter(processed__in=names).values_list("processed", flat=True))
    removed = 0
    for name in names:
        if name not in kept and default_storage.exists(name):
            default_storage.delete(name)
            removed += 1
    return removed
