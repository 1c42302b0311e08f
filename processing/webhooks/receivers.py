"""Signal receivers that turn finished jobs and batches into webhook deliveries. They run in
the process that made the change and must never raise into it."""

from __future__ import annotations

import logging

from processing.jobs.representation import batch_representation, job_representation
from processing.jobs.states import JobState
from processing.webhooks import selectors, services
from processing.webhooks.models import WebhookEvent
from processing.webhooks.tasks import deliveries_enqueue

logger = logging.getLogger(__name__)

JOB_EVENTS = {JobState.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED, JobState.FAILED: WebhookEvent.JOB_FAILED}


def on_job_finished(sender, job, state, **kwargs) -> None:
    event = JOB_EVENTS.get(state)
    if event is None:
        return
    try:
        if not selectors.endpoint_ids_for_event(vendor_id=job.vendor_id, event=event):
            return  # the common case, from the cache: no representation built
        deliveries_enqueue(vendor_id=job.vendor_id, event=event, data=job_representation(job))
    except Exception:
        logger.exception("could not queue webhook %s for job %s of vendor %s", event, job.pk, job.vendor_id)


def on_endpoint_changed(sender, instance, **kwargs) -> None:
    selectors.forget_endpoints(vendor_id=instance.vendor_id)


def on_batch_finished(sender, batch, **kwargs) -> None:
    try:
        data = batch_representation(batch)
        deliveries_enqueue(vendor_id=batch.vendor_id, event=WebhookEvent.BATCH_FINISHED, data=data)
    except Exception:
        logger.exception("could not queue webhook batch.finished for batch %s of vendor %s", batch.pk, batch.vendor_id)


def on_retention_ran(sender, now, **kwargs) -> int:
    """Job retention ran: the delivery log of the jobs it removed goes too."""
    return services.deliveries_purge(now=now)
