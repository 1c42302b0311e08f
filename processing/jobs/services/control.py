"""What vendors and operators do to jobs and batches: cancel, retry, reprioritise."""

from __future__ import annotations

import logging
import uuid
from collections import Counter

from django.db import transaction
from django.utils import timezone

from processing.jobs import events
from processing.jobs.models import Batch, Job, Lane
from processing.jobs.services.creation import parse_priority, resolve_priority
from processing.jobs.services.transitions import (
    announce_finished,
    batch_count_done,
    batch_finish_if_done,
    chunks,
    transition,
)
from processing.jobs.states import FINISHED, InvalidTransition, JobState, sources_of
from processing.jobs.wakeup import request_admission

logger = logging.getLogger(__name__)


def batch_cancel(*, batch: Batch) -> int:
    """Cancel every job of the batch that has not finished. Returns how many were cancelled."""
    ids = list(batch.jobs.filter(state__in=sources_of(JobState.CANCELLED)).values_list("pk", flat=True))
    cancelled = 0
    for chunk in chunks(ids):
        with transaction.atomic():
            n = Job.objects.filter(pk__in=chunk, state__in=sources_of(JobState.CANCELLED)).update(
                state=JobState.CANCELLED, **_CANCELLED, finished_at=timezone.now()
            )
            batch_count_done(batch_id=batch.pk, n=n)
        cancelled += n
    batch_finish_if_done(batch_id=batch.pk)
    events.publish_change(batch_id=batch.pk, vendor_id=batch.vendor_id)
    return cancelled


def job_cancel(*, job: Job) -> bool:
    """A waiting job never runs; a running one stops at its next stage boundary."""
    if job.state not in sources_of(JobState.CANCELLED):
        raise InvalidTransition(job.state, JobState.CANCELLED)
    with transaction.atomic():
        cancelled = transition(job.pk, JobState.CANCELLED, **_CANCELLED, finished_at=timezone.now())
        if cancelled:
            batch_count_done(batch_id=job.batch_id)
    if cancelled:
        announce_finished(job.pk, JobState.CANCELLED)
        batch_finish_if_done(batch_id=job.batch_id)
    return cancelled


_CANCELLED = dict(lane=Lane.DONE, run_token=None, progress_stage="cancelled")

# What a job run again starts from: queued, no attempts, no trace of earlier runs but their log.
_FRESH_RUN = dict(
    state=JobState.QUEUED,
    lane=Lane.WAITING,
    attempts=0,
    dispatched_at=None,
    not_before=None,
    finished_at=None,
    started_at=None,
    progress_percent=0,
    progress_stage="",
    progress_message="",
    error_code="",
    error_message="",
    error_traceback="",
)


def job_retry(*, job: Job) -> bool:
    """Run a failed or cancelled job again, with a fresh set of attempts."""
    if job.state not in FINISHED - {JobState.SUCCEEDED}:
        raise InvalidTransition(job.state, JobState.QUEUED)
    with transaction.atomic():
        retried = Job.objects.filter(pk=job.pk, state__in=FINISHED - {JobState.SUCCEEDED}).update(**_FRESH_RUN) == 1
        if retried:
            batch_count_done(batch_id=job.batch_id, n=-1)
    if retried:
        transaction.on_commit(lambda: request_admission(kinds=[job.kind]))
        events.publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)
    return retried


def job_set_priority(*, job: Job, priority: str | int) -> bool:
    """Change the priority of a job that has not been handed to a worker yet."""
    value = resolve_priority(vendor=job.vendor, priority=priority)
    return Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(priority=value) == 1


def jobs_cancel(*, job_ids: list[uuid.UUID]) -> int:
    """Cancel those of the jobs that have not finished. Returns how many were cancelled."""
    sources = sources_of(JobState.CANCELLED)
    cancelled = 0
    batch_ids: set[uuid.UUID] = set()
    for chunk in chunks(job_ids):
        stamp = timezone.now()  # tells the rows this call cancelled from ones cancelled before
        with transaction.atomic():
            cancelled += Job.objects.filter(pk__in=chunk, state__in=sources).update(
                state=JobState.CANCELLED, **_CANCELLED, finished_at=stamp
            )
            mine = list(
                Job.objects.filter(pk__in=chunk, state=JobState.CANCELLED, finished_at=stamp).values_list(
                    "pk", "batch_id"
                )
            )
            for batch_id, n in Counter(batch_id for _, batch_id in mine).items():
                batch_count_done(batch_id=batch_id, n=n)
        for job_id, batch_id in mine:
            announce_finished(job_id, JobState.CANCELLED)
            batch_ids.add(batch_id)
    for batch_id in batch_ids - {None}:
        batch_finish_if_done(batch_id=batch_id)
    return cancelled


def jobs_retry(*, job_ids: list[uuid.UUID]) -> int:
    """Run those of the jobs that failed or were cancelled again, each with a fresh set of
    attempts. Returns how many were queued again."""
    sources = FINISHED - {JobState.SUCCEEDED}
    retried = 0
    kinds: set[str] = set()
    for chunk in chunks(job_ids):
        with transaction.atomic():
            rows = list(
                Job.objects.select_for_update()
                .filter(pk__in=chunk, state__in=sources)
                .values_list("pk", "kind", "batch_id")
            )
            kinds.update(kind for _, kind, _ in rows)
            retried += Job.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(**_FRESH_RUN)
            for batch_id, n in Counter(batch_id for _, _, batch_id in rows).items():
                batch_count_done(batch_id=batch_id, n=-n)
    if retried:
        transaction.on_commit(lambda: request_admission(kinds=sorted(kinds)))
    return retried


def jobs_set_priority(*, job_ids: list[uuid.UUID], priority: str | int) -> int:
    """Change the priority of those of the jobs still waiting. Returns how many changed."""
    value = parse_priority(priority)
    return sum(
        Job.objects.filter(pk__in=chunk, state=JobState.QUEUED).update(priority=value) for chunk in chunks(job_ids)
    )
