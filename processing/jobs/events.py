"""Change notifications for live event streams, over Redis pub/sub.

Services publish a tiny notice (job, batch, vendor ids) after every progress or state change;
each open stream listens on its job's or batch's channel and re-reads the row when told. A
notice carries no state: the row stays the truth, and a lost notice only delays an update until
the stream's periodic re-read.
"""

from __future__ import annotations

import json
import logging
import uuid

from django.db import transaction

from processing.lib.redis import get_redis

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "darkroom:events"


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:job:{job_id}"


def batch_channel(batch_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:batch:{batch_id}"


def _publish_now(job_id: uuid.UUID | str | None, batch_id: uuid.UUID | str | None, vendor_id: int | None) -> None:
    notice = json.dumps(
        {"job": str(job_id) if job_id else None, "batch": str(batch_id) if batch_id else None, "vendor": vendor_id}
    )
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            if job_id:
                pipe.publish(job_channel(job_id), notice)
            if batch_id:
                pipe.publish(batch_channel(batch_id), notice)
            pipe.execute()
    except Exception:  # streams fall back to their periodic re-read
        logger.warning("could not publish a change of job %s / batch %s", job_id, batch_id, exc_info=True)


def publish_change(
    *, job_id: uuid.UUID | str | None = None, batch_id: uuid.UUID | str | None = None, vendor_id: int | None = None
) -> None:
    """Tell the streams of this job (and of its batch, when given) that it changed, once the
    change is committed. Never raises."""
    try:
        transaction.on_commit(lambda: _publish_now(job_id, batch_id, vendor_id))
    except Exception:
        logger.warning("could not schedule a change notice for job %s", job_id, exc_info=True)


def on_job_finished(sender, job, state, **kwargs) -> None:
    publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)


def on_batch_finished(sender, batch, **kwargs) -> None:
    publish_change(batch_id=batch.pk, vendor_id=batch.vendor_id)
