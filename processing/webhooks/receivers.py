"""Signal receivers that turn finished jobs and batches into webhook deliveries. They run in
the process that made the change and must never raise into it."""

from __future__ import annotations

import logging

from processing.states import JobState

from . import services
from .models import WebhookEvent

logger = logging.getLogger(__name__)

JOB_EVENTS = {JobState.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED, JobState.FAILED: WebhookEvent.JOB_FAILED}


def on_job_finished(sender, job, state, **kwargs) -> None:
    event = JOB_EVENTS.get(state)
    if event is None:
        return
    try:
        from processing.api.serializers import JobOutput

        services.deliveries_enqueue(vendor_id=job.vendor_id, event=event, data=dict(JobOutput(job).data))
    except Exception:
        logger.exception("could not queue webhook %s for job %s of vendor %s", event, job.pk, job.vendor_id)


def on_batch_finished(sender, batch, **kwargs) -> None:
    try:
        from processing.events.stream import batch_totals

        data = {"id": str(batch.pk), "kind": batch.kind, **batch_totals(batch=batch), "finished_at": batch.finished_at}
        services.deliveries_enqueue(vendor_id=batch.vendor_id, event=WebhookEvent.BATCH_FINISHED, data=data)
    except Exception:
        logger.exception("could not queue webhook batch.finished for batch %s of vendor %s", batch.pk, batch.vendor_id)
