"""Admission control: the backlog waits in the database; jobs are handed to Dramatiq only as
capacity frees up, highest priority first within a vendor and round-robin between vendors.

A pass for a kind is one short transaction whose cost does not depend on the backlog:

1. lock the kind's `KindQueue` row (`SELECT … FOR UPDATE SKIP LOCKED`): a second dispatcher
   finds it locked and returns at once, leaving its mark for the holder. COMMIT releases the
   lock, and so does the server when the holder's connection dies: a killed worker holds nothing;
2. which vendors have WAITING jobs of the kind: a loose index scan, one dive per (kind, vendor);
3. those vendors, if active and not paused, locked `FOR UPDATE`: a vendor's cap counts jobs of
   every kind, so two kinds' passes serving one vendor take turns;
4. jobs in flight per kind and vendor: reads IN_FLIGHT rows only, bounded by the capacities;
5. per vendor, in round-robin order, its next jobs by priority then age: an index range read
   in order, no sort; rows locked elsewhere (a cancel) are passed over;
6. one UPDATE claims them all; COMMIT; the messages go to Redis in one pipeline.

On SQLite (the quick start) `FOR UPDATE` is a no-op, and the IMMEDIATE transaction takes the
database's write lock for the pass instead, with the same effect.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import OperationalError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from processing.engine.consumer_wake import SENT_CHANNEL
from processing.engine.messages import send_jobs
from processing.jobs.kinds import PROCESSORS, queue_capacity
from processing.jobs.models import Job, KindQueue, Lane
from processing.jobs.services import jobs_promote_due
from processing.jobs.wakeup import DIRTY_KEY, mark_kinds
from processing.lib.redis import get_redis
from processing.lib.round_robin import mark_served, take_turns
from vendors.models import Vendor
from vendors.selectors import vendor_limits

logger = logging.getLogger(__name__)

LOCK_WAIT_S = 1
ER_LOCK_WAIT_TIMEOUT = 1205
SERVED_KEY = "darkroom:dispatch:served:{kind}"
SERVED_SEQ_KEY = "darkroom:dispatch:seq"


def dispatch_pending(*, kinds: Iterable[str] | None = None) -> int:
    """Admit what capacity allows. Safe to call from anywhere, as often as wanted. Without
    `kinds` (the maintenance tick) it first moves jobs whose `not_before` has passed back in line."""
    if kinds is None:
        jobs_promote_due()
    mark_kinds(kinds)
    return dispatch_marked()


def dispatch_marked() -> int:
    """Admit jobs of the kinds marked since their last pass. A kind whose row another
    dispatcher holds stays marked: the holder looks at the marks again after it commits."""
    r = get_redis()
    sent = 0
    while kinds := sorted(k.decode() for k in r.smembers(DIRTY_KEY)):
        progressed = False
        for kind in kinds:
            admitted = admit(kind)
            if admitted is not None:
                progressed = True
                sent += admitted
        if not progressed:
            break
    return sent


def admit(kind: str) -> int | None:
    """One admission pass for a kind: how many jobs it sent, None if another dispatcher holds it
    (or a row it needs stayed locked for LOCK_WAIT_S: the mark stays, the next pass tries again)."""
    try:
        return _admit(kind)
    except OperationalError as exc:
        if exc.args[0] != ER_LOCK_WAIT_TIMEOUT:
            raise
        logger.info("admission of %s waited %s s for a row lock; trying again later", kind, LOCK_WAIT_S)
        return None


def _admit(kind: str) -> int | None:
    r = get_redis()
    _bound_lock_waits()
    with transaction.atomic():
        if not _lock_kind(kind):
            return None
        r.srem(DIRTY_KEY, kind)  # under the lock: a job committed before this is read below
        chosen = _choose(kind, r)
        if not chosen:
            return 0
        job_ids = [job_id for _, (job_id, _) in chosen]
        # The rows are locked by this transaction: the compare-and-set cannot miss, and each
        # job's dispatch count becomes the one read with it plus one, which its message carries.
        Job.objects.filter(pk__in=job_ids, lane=Lane.WAITING).update(
            lane=Lane.IN_FLIGHT, dispatched_at=timezone.now(), dispatches=F("dispatches") + 1
        )
        # While the kind is still locked, so the next pass sees this order.
        served = [uid for uid, _ in chosen]  # the vendors' uids: a reused id inherits no turn
        mark_served(r, served_key=SERVED_KEY.format(kind=kind), seq_key=SERVED_SEQ_KEY, tenants=served)
    try:
        send_jobs(kind, [(job_id, dispatches + 1) for _, (job_id, dispatches) in chosen])
    except Exception:
        # Give them back; a crash before this line leaves them to the lost-job sweep.
        Job.objects.filter(pk__in=job_ids, lane=Lane.IN_FLIGHT, state="queued").update(
            lane=Lane.WAITING, dispatched_at=None
        )
        raise
    try:
        r.publish(SENT_CHANNEL, kind)  # idle consumers look at once (consumer_wake.py)
    except Exception:  # they look within the worker timeout anyway
        logger.warning("could not tell the consumers that %s jobs were sent", kind, exc_info=True)
    return len(job_ids)


def _bound_lock_waits() -> None:
    """A pass never waits long for a row lock (InnoDB's default is 50 s): it would hold its kind
    meanwhile, and a process killed while its statement waits is noticed by the server only when
    the wait ends. Set once per connection."""
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor != "mysql" or getattr(raw, "darkroom_lock_wait_s", None) == LOCK_WAIT_S:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [LOCK_WAIT_S])
    raw.darkroom_lock_wait_s = LOCK_WAIT_S


def _lock_kind(kind: str) -> bool:
    """Lock the kind's row for this transaction; False if another dispatcher holds it."""
    rows = KindQueue.objects.filter(kind=kind)
    if rows.select_for_update(skip_locked=True).exists():
        return True
    if rows.exists():  # a plain read sees a row that another transaction has locked
        return False
    KindQueue.objects.bulk_create([KindQueue(kind=kind)], ignore_conflicts=True)  # a kind's first pass
    return rows.select_for_update(skip_locked=True).exists()


def _waiting_vendors(kind: str) -> list[int]:
    """Vendors with WAITING jobs of the kind: MariaDB reads the (lane, kind, vendor) index with
    a loose scan, one dive per pair however long the backlog. It does so only when no equality
    on the varchar `kind` precedes the grouped column, hence every kind at once."""
    rows = Job.objects.filter(lane=Lane.WAITING).order_by().values_list("lane", "kind", "vendor_id").distinct()
    return [vendor_id for _, row_kind, vendor_id in rows if row_kind == kind]


def _choose(kind: str, r) -> list[tuple[str, tuple[object, int]]]:
    """(vendor uid, (job id, dispatch count)) in the order they are admitted. Turns are kept in
    Redis by Vendor.uid, never by id, which a recreated database may give to another vendor."""
    vendor_ids = _waiting_vendors(kind)
    if not vendor_ids:
        return []
    vendors = list(
        Vendor.objects.select_for_update()
        .select_related("plan")
        .filter(pk__in=vendor_ids, is_active=True, is_paused=False)
        .order_by("pk")
    )
    if not vendors:
        return []
    in_flight_kind = 0
    in_flight_vendor: dict[int, int] = defaultdict(int)
    counts = (
        Job.objects.filter(lane=Lane.IN_FLIGHT)
        .order_by()
        .values("lane", "kind", "vendor_id")
        .annotate(n=Count("pk"))
        .values_list("kind", "vendor_id", "n")
    )
    for row_kind, vendor_id, n in counts:
        in_flight_vendor[vendor_id] += n
        in_flight_kind += n if row_kind == kind else 0
    free = queue_capacity(kind) - in_flight_kind
    room = {v.pk: vendor_limits(vendor=v)["max_in_flight"] - in_flight_vendor[v.pk] for v in vendors}
    uid = {v.pk: v.uid.hex for v in vendors}
    # The vendor served longest ago goes first; one never served goes before all.
    chosen = take_turns(
        r,
        served_key=SERVED_KEY.format(kind=kind),
        room=room,
        free=free,
        next_items=lambda vendor_id, n: _next_jobs(kind, vendor_id, n),
        field=uid.__getitem__,
    )
    return [(uid[vendor_id], item) for vendor_id, item in chosen]


def _next_jobs(kind: str, vendor_id: int, n: int) -> list[tuple[object, int]]:
    """A vendor's next `n` waiting jobs, (id, dispatch count): the (kind, lane, vendor,
    -priority, created_at) index read in order, no sort; rows locked elsewhere (a cancel) are
    passed over."""
    return list(
        Job.objects.filter(kind=kind, lane=Lane.WAITING, vendor_id=vendor_id)
        .order_by("-priority", "created_at")
        .select_for_update(skip_locked=True)
        .values_list("pk", "dispatches")[:n]
    )


def vendor_forget(*, vendor_uid: str) -> list[str]:
    """Drop the vendor from every kind's fairness order (when it is offboarded), where it is
    named by its uid (_choose). Returns the hash fields removed."""
    r = get_redis()
    keys = [SERVED_KEY.format(kind=kind) for kind in PROCESSORS]
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hdel(key, vendor_uid)
        removed = pipe.execute()
    return [f"{key}[{vendor_uid}]" for key, gone in zip(keys, removed, strict=True) if gone]
