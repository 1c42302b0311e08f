"""Previews are made by a small actor on their own queue, after an upload commits and after
a result is applied: never on a request, never in a job's time."""

from __future__ import annotations

import logging

import dramatiq
from django.db import transaction

from processing.jobs import events
from processing.lib.errors import PermanentError
from processing.lib.imaging.thumbnail import is_preview_sized
from vendors.thumbnails import record_thumbnail_make

logger = logging.getLogger(__name__)

QUEUE = "thumbnails"


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=60_000, throws=(PermanentError,))
def make_record_thumbnail(
    record_id: int, which: str, vendor_id: int, job_id: str | None = None, batch_id: str | None = None
) -> None:
    try:
        name = record_thumbnail_make(record_id=record_id, which=which)
    except PermanentError as exc:
        logger.error("no %s preview for record %s of vendor %s: %s", which, record_id, vendor_id, exc.message)
        raise
    if name and job_id:
        # The portal's card swaps the placeholder for the preview.
        events.publish_change(job_id=job_id, batch_id=batch_id, vendor_id=vendor_id)


def on_record_saved(sender, instance, created, **kwargs) -> None:
    if created and instance.original:
        transaction.on_commit(lambda: make_record_thumbnail.send(instance.pk, "original", instance.vendor_id))


def on_job_finished(sender, job, state, **kwargs) -> None:
    result = job.result or {}
    if is_preview_sized(result.get("width"), result.get("height")):
        return  # its own preview, set with the result (jobs/services/runs.py)
    if state == "succeeded" and job.record_id:
        batch_id = str(job.batch_id) if job.batch_id else None
        transaction.on_commit(
            lambda: make_record_thumbnail.send(job.record_id, "processed", job.vendor_id, str(job.pk), batch_id)
        )
