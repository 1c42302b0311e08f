"""Jobs whose worker died are noticed and queued again."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import events
from .models import Job
from .states import JobState

logger = logging.getLogger(__name__)


def jobs_recover_stalled() -> int:
    """Running jobs without a heartbeat for JOB_STALL_TIMEOUT_S go back to the queue; queued
    jobs handed to Dramatiq that no worker started in that time are handed over again."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALL_TIMEOUT_S)
    stalled = Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=cutoff)
    recovered = 0
    for job_id, vendor_id, batch_id in list(stalled.values_list("pk", "vendor_id", "batch_id")):
        if Job.objects.filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=cutoff).update(
            state=JobState.QUEUED, run_token=None, dispatched_at=None, progress_stage="requeued_after_stall"
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
    lost = Job.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff).update(dispatched_at=None)
    return recovered + lost
