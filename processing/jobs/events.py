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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import transaction

from processing.lib.redis import get_redis

if TYPE_CHECKING:
    from processing.jobs.models import Batch, Job

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "darkroom:events"


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:job:{job_id}"


def batch_channel(batch_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:batch:{batch_id}"


Notice = tuple[uuid.UUID | str | None, uuid.UUID | str | None, int | None]  # job, batch, vendor

# Notices held back by published_together(), sent when it ends; None outside one.
_held: ContextVar[list[Notice] | None] = ContextVar("darkroom_held_notices", default=None)


def _publish_now(notices: list[Notice]) -> None:
    """One Redis round trip for all of them; each job's channel and each batch's told once."""
    channels: dict[str, str] = {}
    for job_id, batch_id, vendor_id in notices:
        notice = json.dumps(
            {"job": str(job_id) if job_id else None, "batch": str(batch_id) if batch_id else None, "vendor": vendor_id}
        )
        if job_id:
            channels[job_channel(job_id)] = notice
        if batch_id:
            channels[batch_channel(batch_id)] = notice
    if not channels:
        return
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for channel, notice in channels.items():
                pipe.publish(channel, notice)
            pipe.execute()
    except Exception:  # streams fall back to their periodic re-read
        logger.warning("could not publish a change of %s job(s)", len(notices), exc_info=True)


def _publish_after_commit(notices: list[Notice]) -> None:
    try:
        transaction.on_commit(lambda: _publish_now(notices))
    except Exception:
        logger.warning("could not schedule a change notice for %s job(s)", len(notices), exc_info=True)


def publish_change(
    *, job_id: uuid.UUID | str | None = None, batch_id: uuid.UUID | str | None = None, vendor_id: int | None = None
) -> None:
    """Tell the streams of this job (and of its batch, when given) that it changed, once the
    change is committed. Never raises."""
    held = _held.get()
    if held is not None:
        held.append((job_id, batch_id, vendor_id))
        return
    _publish_after_commit([(job_id, batch_id, vendor_id)])


@contextmanager
def published_together() -> Iterator[None]:
    """The changes published inside go out when it ends (after commit, if a transaction is
    open then), in one Redis round trip: what the bulk paths that change many jobs use, so
    their cost per job stays a list append."""
    if _held.get() is not None:  # inside another: that one sends them
        yield
        return
    token = _held.set([])
    try:
        yield
    finally:
        notices = _held.get()
        _held.reset(token)
        if notices:
            _publish_after_commit(notices)


def on_job_finished(sender: object, job: Job, state: str, **kwargs: object) -> None:
    publish_change(job_id=job.pk, batch_id=job.batch_id, vendor_id=job.vendor_id)


def on_batch_finished(sender: object, batch: Batch, **kwargs: object) -> None:
    publish_change(batch_id=batch.pk, vendor_id=batch.vendor_id)
