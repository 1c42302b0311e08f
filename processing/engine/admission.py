"""Admission control: the backlog waits in the database; jobs are handed to Dramatiq only as
capacity frees up, highest priority first within a vendor and round-robin between vendors.

One Redis lock serialises admission across every web and worker process, so the counts it
reads are exact without row locks (SQLite has none). A caller that finds the lock taken leaves
a "dirty" mark, and the holder admits again before it lets go, so no new job is overlooked.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone

from processing.engine.messages import send_job
from processing.jobs.kinds import queue_capacity
from processing.jobs.models import Job
from processing.jobs.states import ACTIVE, JobState
from processing.jobs.wakeup import DIRTY_KEY, mark_kinds
from processing.lib.redis import get_redis
from vendors.models import Vendor
from vendors.selectors import vendor_limits

logger = logging.getLogger(__name__)

LOCK_KEY = "darkroom:dispatch:lock"
SERVED_KEY = "darkroom:dispatch:served:{kind}"
SERVED_SEQ_KEY = "darkroom:dispatch:seq"


def dispatch_pending(*, kinds: Iterable[str] | None = None) -> int:
    """Admit what capacity allows. Safe to call from anywhere, as often as wanted."""
    mark_kinds(kinds)
    return dispatch_marked()


def dispatch_marked() -> int:
    """Admit jobs of the kinds marked since the last admission."""
    r = get_redis()
    sent = 0
    while r.scard(DIRTY_KEY):
        lock = r.lock(LOCK_KEY, timeout=60, blocking=False)
        if not lock.acquire():
            return sent  # the holder sees our mark before it releases
        try:
            while dirty := [k.decode() for k in r.spop(DIRTY_KEY, 100)]:
                for kind in dirty:
                    sent += _admit(kind)
        finally:
            lock.release()
    return sent


def _waiting(kind: str):
    now = timezone.now()
    return Job.objects.filter(
        kind=kind,
        state=JobState.QUEUED,
        dispatched_at__isnull=True,
        vendor__is_active=True,
        vendor__is_paused=False,
    ).filter(Q(not_before__isnull=True) | Q(not_before__lte=now))


def _in_flight():
    return Job.objects.filter(state__in=ACTIVE, dispatched_at__isnull=False)


def _admit(kind: str) -> int:
    free = queue_capacity(kind) - _in_flight().filter(kind=kind).count()
    if free <= 0:
        return 0
    waiting = _waiting(kind)
    vendor_ids = list(waiting.order_by().values_list("vendor_id", flat=True).distinct())
    if not vendor_ids:
        return 0
    vendors = Vendor.objects.filter(pk__in=vendor_ids).select_related("plan")
    caps = {v.pk: vendor_limits(vendor=v)["max_in_flight"] for v in vendors}
    in_flight = dict(
        _in_flight()
        .filter(vendor_id__in=vendor_ids)
        .values("vendor_id")
        .annotate(n=Count("id"))
        .values_list("vendor_id", "n")
    )
    r = get_redis()
    served_key = SERVED_KEY.format(kind=kind)
    served = {int(k): int(v) for k, v in r.hgetall(served_key).items()}
    # The vendor served longest ago goes first; one never served goes before all.
    turn = deque(sorted(vendor_ids, key=lambda v: served.get(v, 0)))
    sent = 0
    while free > 0 and turn:
        vendor_id = turn.popleft()
        if in_flight.get(vendor_id, 0) >= caps[vendor_id]:
            continue
        job_id = (
            waiting.filter(vendor_id=vendor_id).order_by("-priority", "created_at").values_list("pk", flat=True).first()
        )
        if job_id is None:
            continue
        if not _claim_and_send(kind, job_id):
            turn.appendleft(vendor_id)  # cancelled meanwhile: try this vendor's next job
            continue
        sent += 1
        free -= 1
        in_flight[vendor_id] = in_flight.get(vendor_id, 0) + 1
        r.hset(served_key, vendor_id, r.incr(SERVED_SEQ_KEY))
        turn.append(vendor_id)
    return sent


def _claim_and_send(kind: str, job_id) -> bool:
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        send_job(kind, job_id)
    except Exception:
        Job.objects.filter(pk=job_id).update(dispatched_at=None)
        raise
    return True
