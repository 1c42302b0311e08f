"""Fair delivery: webhook deliveries wait as `QueuedDelivery` rows and are handed to the
`webhooks` queue only a few at a time, so one vendor's flood never stands in front of another
vendor's delivery (Dramatiq serves a queue first in, first out).

A pass is one short transaction, like the jobs' admission (`processing/engine/admission.py`):

1. lock the one `DeliveryQueue` row (`SELECT … FOR UPDATE SKIP LOCKED`): a second dispatcher
   finds it locked, leaves its mark and returns; the holder looks at the mark again after it
   commits, so no delivery is overlooked. A dead holder's lock ends with its connection;
2. retries whose backoff has passed become WAITING; in-flight rows whose message has not been
   answered for STALLED_AFTER_S (a lost message) are handed out again;
3. in-flight counts per vendor (IN_FLIGHT rows only, at most WEBHOOK_QUEUE_CAPACITY);
4. within WEBHOOK_QUEUE_CAPACITY and each vendor's WEBHOOK_VENDOR_IN_FLIGHT, one delivery per
   vendor per turn, the vendor served longest ago first (a vendor never served before all),
   each vendor's oldest first; one UPDATE claims them; COMMIT; then the messages are sent.

So a delivery of vendor B waits for at most the capacity's messages already handed out, never
for vendor A's backlog, and vendor A's slow receivers hold at most WEBHOOK_VENDOR_IN_FLIGHT
worker threads. Passes run after deliveries are queued, after each attempt (its slot is free),
and on each worker's tick (`processing/webhooks/middleware.py`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from processing.jobs.models import Lane
from processing.lib.redis import get_redis
from processing.lib.round_robin import mark_served, take_turns
from processing.webhooks.models import DeliveryQueue, QueuedDelivery

logger = logging.getLogger(__name__)

QUEUE_NAME = "webhooks"
ACTOR_NAME = "deliver_queued_webhook"
DIRTY_KEY = "darkroom:webhooks:dirty"
SERVED_KEY = "darkroom:webhooks:served"
SERVED_SEQ_KEY = "darkroom:webhooks:seq"
# An attempt lasts at most WEBHOOK_TIMEOUT_S + 30 s (the actor's time limit), and at most
# WEBHOOK_QUEUE_CAPACITY messages wait for the webhooks worker's threads: a message unanswered
# for this long is lost (a flushed Redis), and its delivery is handed out again. A superseded
# message attempts nothing: its dispatch count no longer matches.
STALLED_AFTER_S = 600


def deliveries_dispatch() -> int:
    """Hand waiting deliveries to the webhooks queue as far as the caps allow; how many were
    sent. Safe to call from anywhere, as often as wanted."""
    r = get_redis()
    r.set(DIRTY_KEY, 1)
    sent = 0
    while r.exists(DIRTY_KEY):
        admitted = _admit(r)
        if admitted is None:  # another dispatcher holds the queue: it sees the mark after it commits
            break
        sent += admitted
    return sent


def _admit(r) -> int | None:
    with transaction.atomic():
        if not _lock():
            return None
        r.delete(DIRTY_KEY)  # under the lock: a delivery queued before this is read below
        now = timezone.now()
        QueuedDelivery.objects.filter(lane=Lane.DEFERRED, not_before__lte=now).update(
            lane=Lane.WAITING, not_before=None
        )
        stalled = QueuedDelivery.objects.filter(
            lane=Lane.IN_FLIGHT, dispatched_at__lt=now - timedelta(seconds=STALLED_AFTER_S)
        ).update(lane=Lane.WAITING, dispatched_at=None)
        if stalled:
            logger.warning(
                "%s webhook deliveries were not answered for %s s: handed out again", stalled, STALLED_AFTER_S
            )
        chosen = _choose(r)
        if not chosen:
            return 0
        ids = [pk for _, pk, _ in chosen]
        QueuedDelivery.objects.filter(pk__in=ids, lane=Lane.WAITING).update(
            lane=Lane.IN_FLIGHT, dispatched_at=now, dispatches=F("dispatches") + 1
        )
        mark_served(r, served_key=SERVED_KEY, seq_key=SERVED_SEQ_KEY, tenants=[vendor_id for vendor_id, _, _ in chosen])
    try:
        _send([(pk, dispatches + 1) for _, pk, dispatches in chosen])
    except Exception:
        # Give them back; a crash before this line leaves them to the stalled sweep.
        QueuedDelivery.objects.filter(pk__in=ids, lane=Lane.IN_FLIGHT).update(lane=Lane.WAITING, dispatched_at=None)
        raise
    return len(chosen)


def _lock() -> bool:
    """Lock the queue's row for this transaction; False if another dispatcher holds it."""
    rows = DeliveryQueue.objects.filter(name=QUEUE_NAME)
    if rows.select_for_update(skip_locked=True).exists():
        return True
    if rows.exists():  # a plain read sees a row that another transaction has locked
        return False
    DeliveryQueue.objects.bulk_create([DeliveryQueue(name=QUEUE_NAME)], ignore_conflicts=True)  # the first pass
    return rows.select_for_update(skip_locked=True).exists()


def _choose(r) -> list[tuple[int, uuid.UUID, int]]:
    """(vendor id, queued delivery id, its dispatch count) in the order they are handed out."""
    in_flight = dict(
        QueuedDelivery.objects.filter(lane=Lane.IN_FLIGHT)
        .order_by()
        .values("lane", "vendor_id")
        .annotate(n=Count("pk"))
        .values_list("vendor_id", "n")
    )
    free = settings.WEBHOOK_QUEUE_CAPACITY - sum(in_flight.values())
    if free <= 0:
        return []
    # One index dive per waiting vendor: the (lane, vendor) index read with a loose scan.
    waiting = QueuedDelivery.objects.filter(lane=Lane.WAITING).order_by().values_list("lane", "vendor_id").distinct()
    room = {vendor_id: settings.WEBHOOK_VENDOR_IN_FLIGHT - in_flight.get(vendor_id, 0) for _, vendor_id in waiting}
    # The vendor served longest ago goes first; one never served goes before all.
    chosen = take_turns(r, served_key=SERVED_KEY, room=room, free=free, next_items=_oldest)
    return [(vendor_id, pk, dispatches) for vendor_id, (pk, dispatches) in chosen]


def _oldest(vendor_id: int, n: int) -> list[tuple[uuid.UUID, int]]:
    """A vendor's n oldest waiting deliveries, (id, dispatch count): the (lane, vendor,
    created_at) index read in order."""
    return list(
        QueuedDelivery.objects.filter(lane=Lane.WAITING, vendor_id=vendor_id)
        .order_by("created_at")
        .values_list("pk", "dispatches")[:n]
    )


def _send(messages: list[tuple[uuid.UUID, int]]) -> None:
    """The delivery actor's messages, built by its name (its module imports this one)."""
    broker = dramatiq.get_broker()
    for queued_id, dispatch in messages:
        broker.enqueue(
            dramatiq.Message(
                queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(str(queued_id), dispatch), kwargs={}, options={}
            )
        )
