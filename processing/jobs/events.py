"""Change notifications for live event streams, over Redis pub/sub.

Services publish a tiny notice (job, batch, vendor ids) after every progress or state change;
each open stream listens on its job's or batch's channel and re-reads the row when told. A
notice carries no state: the row stays the truth, and a lost notice only delays an update until
the stream's periodic re-read.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import transaction

from processing.lib.redis import get_redis, traceback_unless_away

if TYPE_CHECKING:
    from processing.jobs.models import Batch, Job

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "darkroom:events"
# Notices of a vendor's jobs are sent only while one of its streams is open: each open stream
# keeps this key alive (listening_mark), and the first one also says so on LISTENERS_CHANNEL, which
# workers hear (engine/maintenance.py) to forget what they knew. Without a listener, a short
# job's two notices would cost it two Redis round trips for nobody.
LISTENING_KEY = CHANNEL_PREFIX + ":listening:{vendor_id}"
LISTENERS_CHANNEL = CHANNEL_PREFIX + ":listeners"
LISTENING_TTL_S = 60
_KNOWN_S = 5.0
_known: dict[int, tuple[bool, float]] = {}
_trust_known = False  # only a process that hears LISTENERS_CHANNEL may answer from _known


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:job:{job_id}"


def batch_channel(batch_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}:batch:{batch_id}"


Notice = tuple[uuid.UUID | str | None, uuid.UUID | str | None, int | None]  # job, batch, vendor

# Notices held back by published_together(), sent when it ends; None outside one.
_held: ContextVar[list[Notice] | None] = ContextVar("darkroom_held_notices", default=None)


def listening_mark(*, vendor_id: int) -> None:
    """A stream of the vendor is open: called when it opens and at each of its re-reads."""
    key = LISTENING_KEY.format(vendor_id=vendor_id)
    try:
        r = get_redis()
        if r.set(key, "1", ex=LISTENING_TTL_S, nx=True):
            r.publish(LISTENERS_CHANNEL, str(vendor_id))
        else:
            r.expire(key, LISTENING_TTL_S)
    except Exception:  # then its notices may be skipped: the stream's re-reads still come
        logger.warning("could not mark vendor %s's streams as listening", vendor_id, exc_info=True)


def listeners_heard(*, hearing: bool) -> None:
    """This process hears LISTENERS_CHANNEL (or stopped hearing it): what it learnt of a vendor's
    listeners may be trusted for _KNOWN_S. Told again when a vendor's first stream opens."""
    global _trust_known
    _trust_known = hearing
    _known.clear()


def _listened(vendor_id: int | None) -> bool:
    if vendor_id is None:
        return True
    now = time.monotonic()
    if _trust_known and (known := _known.get(vendor_id)) and now - known[1] < _KNOWN_S:
        return known[0]
    try:
        listened = bool(get_redis().exists(LISTENING_KEY.format(vendor_id=vendor_id)))
    except Exception:
        return True  # unknown: publish (which will fail alike, and say so)
    if _trust_known:
        _known[vendor_id] = (listened, now)
    return listened


def _publish_now(notices: list[Notice]) -> None:
    """One Redis round trip for all of them; each job's channel and each batch's told once."""
    channels: dict[str, str] = {}
    if len(notices) > 1:
        listened = {vendor_id: _listened(vendor_id) for vendor_id in {n[2] for n in notices}}
        notices = [notice for notice in notices if listened[notice[2]]]
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
    except Exception as exc:  # streams fall back to their periodic re-read
        logger.warning(
            "could not publish a change of %s job(s): %r", len(notices), exc, exc_info=traceback_unless_away(exc)
        )


def _publish_after_commit(notices: list[Notice]) -> None:
    try:
        transaction.on_commit(lambda: _publish_now(notices))
    except Exception:
        logger.warning("could not schedule a change notice for %s job(s)", len(notices), exc_info=True)


def publish_change(
    *, job_id: uuid.UUID | str | None = None, batch_id: uuid.UUID | str | None = None, vendor_id: int | None = None
) -> None:
    """Tell the streams of this job (and of its batch, when given) that it changed, once the
    change is committed, if the vendor (when given) has a stream open. Never raises."""
    held = _held.get()
    if held is not None:  # whether anyone listens is asked once per vendor when they are sent
        held.append((job_id, batch_id, vendor_id))
        return
    if _listened(vendor_id):
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
