"""Deliveries are queued here and sent by the delivery actor, on its own `webhooks` queue so slow
receivers never hold up jobs. Dramatiq's retries are the backoff: each failed attempt raises,
the last one only logs."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from dramatiq.middleware import CurrentMessage
from rest_framework.utils.encoders import JSONEncoder

from processing.webhooks import selectors, services

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; Dramatiq tries again later."""


@dramatiq.actor(
    queue_name="webhooks",
    max_retries=settings.WEBHOOK_MAX_RETRIES,
    min_backoff=settings.WEBHOOK_MIN_BACKOFF_MS,
    max_backoff=settings.WEBHOOK_MAX_BACKOFF_MS,
    time_limit=int(settings.WEBHOOK_TIMEOUT_S * 1000) + 30_000,
    throws=(),
)
def deliver_webhook(endpoint_id: int, delivery_id: str, event: str, payload: dict[str, Any]) -> None:
    message = CurrentMessage.get_current_message()
    retries = message.options.get("retries", 0) if message else 0
    outcome = services.delivery_attempt(
        endpoint_id=endpoint_id, delivery_id=delivery_id, event=event, payload=payload, attempt=retries + 1
    )
    if not outcome.retry or outcome.delivery is None:
        return
    delivery = outcome.delivery
    reason = f"status {delivery.status_code}" if delivery.status_code else delivery.error
    if retries >= settings.WEBHOOK_MAX_RETRIES:
        logger.error(
            "webhook %s of vendor %s to endpoint %s gave up after %s attempts (%s)",
            event,
            delivery.endpoint.vendor_id,
            endpoint_id,
            retries + 1,
            reason,
            extra={"vendor": delivery.endpoint.vendor_id, "endpoint": endpoint_id, "delivery_id": delivery_id},
        )
        return
    raise DeliveryFailed(f"webhook {event} to endpoint {endpoint_id} attempt {retries + 1}: {reason}")


def deliveries_enqueue(*, vendor_id: int, event: str, data: dict[str, Any]) -> int:
    """Send `event` to every active endpoint of the vendor that asked for it, after commit."""
    endpoint_ids = selectors.endpoint_ids_for_event(vendor_id=vendor_id, event=event)
    for endpoint_id in endpoint_ids:
        delivery_id = str(uuid.uuid4())
        # The Standard Webhooks payload; the delivery id travels as the webhook-id header.
        payload = json.loads(json.dumps({"type": event, "timestamp": timezone.now(), "data": data}, cls=JSONEncoder))
        transaction.on_commit(
            lambda e=endpoint_id, d=delivery_id, p=payload: deliver_webhook.send(
                endpoint_id=e, delivery_id=d, event=event, payload=p
            )
        )
    return len(endpoint_ids)
