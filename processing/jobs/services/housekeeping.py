"""Stalled and lost jobs back in line; finished jobs, and records past their vendor's retention,
removed; the deletion journal's files removed."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from processing.jobs import events, signals, usage
from processing.jobs.models import IdempotencyKey, Job, Lane
from processing.jobs.services.deletion import project_deletions_resume, records_expire
from processing.jobs.services.exports import exports_expire
from processing.jobs.services.transitions import (
    CHUNK,
    announce_finished,
    batch_finish_if_done,
    finish_run,
    transition,
)
from processing.jobs.states import JobState
from vendors.models import Record
from vendors.storage_journal import storage_deletions_drain, storage_deletions_journal

logger = logging.getLogger(__name__)


def jobs_recover_stalled() -> int:
    """Running jobs whose lease ran out (their worker died or froze) are taken back: queued again
    if attempts remain, else failed (`worker_lost`); the lost run counts as an attempt either way.
    Queued jobs handed to Dramatiq that no worker started within JOB_STALL_TIMEOUT_S are handed
    over again (the broker-aware check, engine/lost_messages.py, finds most far sooner)."""
    now = timezone.now()
    expired = Job.objects.filter(state=JobState.RUNNING, lease_expires_at__lt=now)
    recovered = sum(
        _take_back(job_id, token, now) for job_id, token in list(expired.values_list("pk", "run_token")[:CHUNK])
    )
    # Read first, then update by key: an UPDATE over the in-flight range would lock every row it
    # passes and deadlock with the workers finishing those jobs.
    cutoff = now - timedelta(seconds=settings.JOB_STALL_TIMEOUT_S)
    lost_rows = Job.objects.filter(lane=Lane.IN_FLIGHT, state=JobState.QUEUED, dispatched_at__lt=cutoff)
    lost = lost_rows.filter(pk__in=list(lost_rows.values_list("pk", flat=True)[:CHUNK])).update(
        lane=Lane.WAITING, dispatched_at=None
    )
    return recovered + lost


def _take_back(job_id: uuid.UUID, token: uuid.UUID | None, now: datetime) -> bool:
    """Take one expired job from the run that held it: a compare-and-set on its token and its
    lease (a renewal that came meanwhile keeps it), then queue it again or fail it."""
    sweep = uuid.uuid4()
    if not Job.objects.filter(pk=job_id, state=JobState.RUNNING, run_token=token, lease_expires_at__lt=now).update(
        run_token=sweep, lease_expires_at=None
    ):
        return False
    job = Job.objects.only(
        "pk", "vendor_id", "kind", "batch_id", "record_id", "attempts", "max_attempts", "attempt_errors"
    ).get(pk=job_id)
    if token is not None:
        # The lost run may have stored its result file before it stopped (or may, if only frozen):
        # noted for the sweep, which removes it once the grace period has passed.
        storage_deletions_journal(
            prefixes=[f"results/{job.vendor_id}/{job_id}/{token.hex}."],
            vendor_id=job.vendor_id,
            due_at=now + timedelta(seconds=settings.RESULT_ORPHAN_GRACE_S),
        )
    message = "its worker stopped renewing the job's lease (it died or froze)"
    entry = {"attempt": job.attempts, "code": "worker_lost", "message": message, "at": now.isoformat()}
    common: dict[str, Any] = dict(
        error_code="worker_lost", error_message=message, attempt_errors=[*job.attempt_errors, entry]
    )
    if job.attempts < job.max_attempts:
        transition(
            job_id,
            JobState.QUEUED,
            held_by=sweep,
            run_token=None,
            dispatched_at=None,
            progress_stage="requeued_after_lease_expiry",
            **common,
        )
        logger.warning(
            "job %s of vendor %s: lease expired during attempt %s of %s; queued again",
            job_id,
            job.vendor_id,
            job.attempts,
            job.max_attempts,
            extra={"job_id": str(job_id), "vendor": job.vendor_id},
        )
    elif finish_run(
        job,
        JobState.FAILED,
        held_by=sweep,
        # No worker time: the lost run's end is not known.
        counts=usage.failed(vendor_id=job.vendor_id, kind=job.kind, started_at=None, now=now),
        finished_at=now,
        progress_stage="failed",
        **common,
    ):
        announce_finished(job_id, JobState.FAILED)
        batch_finish_if_done(batch_id=job.batch_id)
        logger.error(
            "job %s of vendor %s failed: lease expired during its last attempt (%s)",
            job_id,
            job.vendor_id,
            job.attempts,
            extra={"job_id": str(job_id), "vendor": job.vendor_id},
        )
    events.publish_change(job_id=job_id, batch_id=job.batch_id, vendor_id=job.vendor_id)
    return True


def jobs_requeue_lost(*, dispatches: dict[uuid.UUID, int]) -> int:
    """Jobs whose message is gone ({job id: dispatch count of that message}) go back in line for
    admission, which hands them over again with a new count. A compare-and-set on the count: a
    job started or re-dispatched meanwhile is left alone."""
    requeued = 0
    for job_id, dispatch in dispatches.items():
        requeued += Job.objects.filter(
            pk=job_id, state=JobState.QUEUED, lane=Lane.IN_FLIGHT, dispatches=dispatch
        ).update(lane=Lane.WAITING, dispatched_at=None, progress_stage="requeued_after_lost_message")
    if requeued:
        logger.warning("%s job(s) whose Dramatiq message was lost are queued again", requeued)
    return requeued


@dataclass(frozen=True)
class PurgeReport:
    jobs: int
    files: int
    idempotency_keys: int = 0
    records: int = 0  # past their vendor's retention, or of a project whose deletion had stopped


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
    records = records_expire(now=now, limit=settings.RETENTION_RECORDS_PER_RUN)
    records += project_deletions_resume(limit=settings.RETENTION_RECORDS_PER_RUN)
    exports = exports_expire(now=now)
    orphans = storage_sweep(now=max(now, timezone.now()))  # with what this run itself journaled
    for receiver, failure in signals.retention_ran.send_robust(sender=Job, now=now):
        if isinstance(failure, Exception):
            logger.error("retention of %s failed: %r", receiver, failure, exc_info=failure)
    if jobs or keys or orphans or records or exports:
        logger.info(
            "retention removed %s finished jobs, %s result files, %s idempotency keys, %s records, "
            "%s expired exports, %s files of the deletion journal",
            jobs,
            files,
            keys,
            records,
            exports,
            orphans,
        )
    return PurgeReport(jobs=jobs, files=files + orphans, idempotency_keys=keys, records=records)


def storage_sweep(*, now: datetime | None = None) -> int:
    """Remove the files the deletion journal holds that are due (deleted records' and projects',
    runs taken back after their worker died, results whose removal failed): at most
    STORAGE_DELETIONS_PER_RUN entries, by index, never a listing of the storage. Returns the
    files removed."""
    return storage_deletions_drain(now=now, limit=settings.STORAGE_DELETIONS_PER_RUN).files


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
