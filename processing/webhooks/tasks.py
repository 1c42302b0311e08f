"""The delivery actor, on its own `webhooks` queue so slow receivers never hold up jobs. It is
handed deliveries by admission (`admission.py`: a few per vendor at a time, round-robin between
vendors); a failed attempt waits for its backoff as a row, not in Dramatiq, and holds no thread."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from dramatiq.middleware import CurrentMessage

from processing.lib.redis import traceback_unless_away
from processing.webhooks import admission, services
from processing.webhooks.models import QueuedDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name=admission.ACTOR_NAME,
    queue_name=admission.QUEUE_NAME,
    # Dramatiq's retries cover only an outage that kept the attempt from recording anything
    # (the database down): the row's dispatch count lets one message attempt at most once.
    max_retries=3,
    time_limit=int(settings.WEBHOOK_TIMEOUT_S * 1000) + 30_000,
    throws=(),
)
def deliver_queued_webhook(queued_id: str, dispatch: int) -> None:
    services.queued_delivery_run(queued_id=queued_id, dispatch=dispatch)
    dispatch_soon()  # this delivery's slot is free: the next one in line


@dramatiq.actor(queue_name=admission.QUEUE_NAME, max_retries=0, throws=())
def deliver_webhook(endpoint_id: int, delivery_id: str, event: str, payload: dict[str, Any]) -> None:
    """A message queued before deliveries waited as rows (an upgrade with deliveries in Redis):
    queued as a row with its attempt number, in line with everyone else's."""
    message = CurrentMessage.get_current_message()
    retries = message.options.get("retries", 0) if message else 0
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return
    queued = QueuedDelivery(
        id=delivery_id,
        vendor_id=endpoint.vendor_id,
        endpoint=endpoint,
        event=event,
        payload=payload,
        attempt=retries + 1,
    )
    QueuedDelivery.objects.bulk_create([queued], ignore_conflicts=True)  # a message delivered twice: one row
    dispatch_soon()


def deliveries_enqueue(*, vendor_id: int, event: str, data: dict[str, Any]) -> int:
    """Queue `event` for every active endpoint of the vendor that asked for it; admission hands
    them out after commit."""
    queued = services.deliveries_queue(vendor_id=vendor_id, event=event, data=data)
    if queued:
        transaction.on_commit(dispatch_soon)
    return queued


def dispatch_soon() -> None:
    """An admission pass; if it fails (Redis away), the next tick of a webhooks worker admits."""
    try:
        admission.deliveries_dispatch()
    except Exception as exc:
        logger.warning(
            "webhook admission failed (%r); the next tick tries again", exc, exc_info=traceback_unless_away(exc)
        )
