"""What vendors and operators do to jobs and batches: cancel, retry, reprioritise."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from processing.jobs import events, usage
from processing.jobs.models import Batch, Job, Lane
from processing.jobs.services.creation import parse_priority, resolve_priority
from processing.jobs.services.transitions import (
    announce_finished_many,
    batch_count_done,
    batch_finish_if_done,
    chunks,
    retried_on_deadlock,
)
from processing.jobs.states import FINISHED, InvalidTransition, JobState, sources_of
from processing.jobs.wakeup import request_admission


def batch_cancel(*, batch: Batch) -> int:
    """Cancel every job of the batch that has not finished. Returns how many were cancelled."""
    ids = list(batch.jobs.filter(state__in=sources_of(JobState.CANCELLED)).values_list("pk", flat=True))
    return jobs_cancel(job_ids=ids)


def job_cancel(*, job: Job) -> bool:
    """A waiting job never runs; a running one stops at its next stage boundary."""
    if job.state not in sources_of(JobState.CANCELLED):
        raise InvalidTransition(job.state, JobState.CANCELLED)
    return jobs_cancel(job_ids=[job.pk]) == 1


_CANCELLED = dict(lane=Lane.DONE, run_token=None, progress_stage="cancelled")


def jobs_cancel(*, job_ids: list[uuid.UUID]) -> int:
    """Cancel those of the jobs that have not finished; every cancel goes through here. Each one
    cancelled is counted on its batch and announced (job_finished, so its streams hear of it);
    a constant number of statements per CHUNK of jobs. Returns how many were cancelled."""
    cancelled = 0
    batch_ids: set[uuid.UUID] = set()
    for chunk in chunks(job_ids):
        mine = retried_on_deadlock(_cancel_chunk)(chunk)
        cancelled += len(mine)
        batch_ids.update(row[1] for row in mine)
    for batch_id in batch_ids - {None}:
        batch_finish_if_done(batch_id=batch_id)
    return cancelled


def _cancel_chunk(chunk: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    """One transaction: the chunk's unfinished jobs locked, cancelled, counted on their batches
    and in the usage ledger, announced on commit. A deadlock victim (the ledger's row is upserted
    by finishing runs too) is rolled back whole and run again by the caller."""
    with transaction.atomic():
        mine = list(
            Job.objects.select_for_update()
            .filter(pk__in=chunk, state__in=sources_of(JobState.CANCELLED))
            .values_list("pk", "batch_id", "vendor_id", "kind")
        )
        if not mine:
            return []
        Job.objects.filter(pk__in=[row[0] for row in mine]).update(
            state=JobState.CANCELLED, **_CANCELLED, finished_at=timezone.now()
        )
        for batch_id, count in Counter(row[1] for row in mine).items():
            batch_count_done(batch_id=batch_id, n=count)
        # The rows locked and changed in this transaction: each cancel counted once, with it.
        usage.usage_add(
            counts=[
                usage.cancelled(vendor_id=vendor_id, kind=kind, n=n)
                for (vendor_id, kind), n in Counter((row[2], row[3]) for row in mine).items()
            ]
        )
        announce_finished_many([row[0] for row in mine], JobState.CANCELLED)
    return mine


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
RETRYABLE = FINISHED - {JobState.SUCCEEDED}


# Wraps running n jobs again in the caller's charge for them: quotas.quota_charged, say.
Charging = Callable[[int], AbstractContextManager[object]]


def job_retry(*, job: Job, charged: Charging | None = None) -> bool:
    """Run a failed or cancelled job again, with a fresh set of attempts; with `charged`, as
    batch_retry_failed does: charged only if it does run again."""
    if job.state not in RETRYABLE:
        raise InvalidTransition(job.state, JobState.QUEUED)
    if charged is not None:
        return _retried_charged(Job.objects.filter(pk=job.pk), charged) == 1
    return jobs_retry(job_ids=[job.pk]) == 1


def batch_retry_failed(*, batch: Batch, charged: Charging) -> int:
    """Run the batch's failed jobs again, charged for exactly those that do. Returns how many."""
    return _retried_charged(batch.jobs.filter(state=JobState.FAILED), charged)


def _retried_charged(jobs: QuerySet[Job], charged: Charging) -> int:
    """Lock those of `jobs` that can run again, then run them again inside `charged(n)` for
    exactly that n: no other retry can take one of them meanwhile, so what is charged is what
    runs again, and a refused charge changes nothing."""
    with ExitStack() as charge, transaction.atomic():
        ids = list(jobs.select_for_update().filter(state__in=RETRYABLE).values_list("pk", flat=True))
        if not ids:
            return 0
        charge.enter_context(charged(len(ids)))  # outside the transaction: a failed commit refunds
        return jobs_retry(job_ids=ids)


def jobs_retry(*, job_ids: list[uuid.UUID]) -> int:
    """Run those of the jobs that failed or were cancelled again, each with a fresh set of
    attempts; every retry goes through here. Each one is taken off its batch's count, its kind's
    admission woken and its streams told; a constant number of statements per CHUNK of jobs.
    Returns how many were queued again."""
    retried = 0
    kinds: set[str] = set()
    with events.published_together():
        for chunk in chunks(job_ids):
            with transaction.atomic():
                rows = list(
                    Job.objects.select_for_update()
                    .filter(pk__in=chunk, state__in=RETRYABLE)
                    .values_list("pk", "kind", "batch_id", "vendor_id")
                )
                if not rows:
                    continue
                retried += Job.objects.filter(pk__in=[row[0] for row in rows]).update(**_FRESH_RUN)
                for batch_id, n in Counter(batch_id for _, _, batch_id, _ in rows).items():
                    batch_count_done(batch_id=batch_id, n=-n)
                # Run again by hand (and charged again): a submission of its own, which its
                # new end counts; the earlier end stays counted on its day.
                usage.usage_add(
                    counts=[
                        usage.submitted(vendor_id=vendor_id, kind=kind, n=n)
                        for (kind, vendor_id), n in Counter((row[1], row[3]) for row in rows).items()
                    ]
                )
            kinds.update(kind for _, kind, _, _ in rows)
            for job_id, _, batch_id, vendor_id in rows:
                events.publish_change(job_id=job_id, batch_id=batch_id, vendor_id=vendor_id)
    if retried:
        transaction.on_commit(lambda: request_admission(kinds=sorted(kinds)))
    return retried


def job_set_priority(*, job: Job, priority: str | int) -> bool:
    """Change the priority of a job that has not been handed to a worker yet."""
    value = resolve_priority(vendor=job.vendor, priority=priority)
    return Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(priority=value) == 1


def jobs_set_priority(*, job_ids: list[uuid.UUID], priority: str | int) -> int:
    """Change the priority of those of the jobs still waiting. Returns how many changed."""
    value = parse_priority(priority)
    return sum(
        Job.objects.filter(pk__in=chunk, state=JobState.QUEUED).update(priority=value) for chunk in chunks(job_ids)
    )
