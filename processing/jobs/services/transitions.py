"""The compare-and-set every state change goes through, and what follows a change."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from processing.jobs import signals
from processing.jobs.models import Job
from processing.jobs.states import sources_of

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The job was cancelled or taken from this worker: stop at the next stage boundary."""


def transition(job_id: uuid.UUID, target: str, *, held_by: uuid.UUID | None = None, **fields: Any) -> bool:
    """Move a job to `target` if its current state allows it (and, when given, the run that
    holds it is `held_by`). Returns whether this call made the change."""
    rows = Job.objects.filter(pk=job_id, state__in=sources_of(target))
    if held_by is not None:
        rows = rows.filter(run_token=held_by)
    return rows.update(state=target, **fields) == 1


def announce_finished(job_id: uuid.UUID, state: str) -> None:
    def send() -> None:
        job = Job.objects.filter(pk=job_id).select_related("vendor").first()
        if job is not None:
            signals.job_finished.send(sender=Job, job=job, state=state)

    transaction.on_commit(send)


def chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


CHUNK = 500  # rows per INSERT/UPDATE: far below MySQL's max_allowed_packet
