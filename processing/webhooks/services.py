"""Every change to webhook endpoints, and each delivery attempt with its log row."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from processing.errors import InvalidParams
from vendors.models import Vendor

from . import selectors
from .destinations import check_webhook_url, pinned_target
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .signing import new_secret, signed_headers

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 500


def endpoint_create(*, vendor: Vendor, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    chosen = list(dict.fromkeys(events)) if events else list(WebhookEvent.values)
    unknown = [e for e in chosen if e not in WebhookEvent.values]
    if unknown:
        raise InvalidParams(f"unknown event {unknown[0]!r}; events are {', '.join(WebhookEvent.values)}")
    return WebhookEndpoint.objects.create(vendor=vendor, url=check_webhook_url(url), secret=new_secret(), events=chosen)


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def deliveries_enqueue(*, vendor_id: int, event: str, data: dict[str, Any]) -> int:
    """Send `event` to every active endpoint of the vendor that asked for it, after commit."""
    from .tasks import deliver_webhook

    endpoints = selectors.endpoints_for_event(vendor_id=vendor_id, event=event)
    for endpoint in endpoints:
        delivery_id = str(uuid.uuid4())
        payload = json.loads(
            json.dumps({"id": delivery_id, "event": event, "created_at": timezone.now(), "data": data}, cls=JSONEncoder)
        )
        transaction.on_commit(
            lambda e=endpoint, d=delivery_id, p=payload: deliver_webhook.send(
                endpoint_id=e.pk, delivery_id=d, event=event, payload=p
            )
        )
    return len(endpoints)


@dataclass(frozen=True)
class AttemptOutcome:
    delivery: WebhookDelivery | None  # None when the endpoint is gone or switched off
    retry: bool


def delivery_attempt(
    *, endpoint_id: int, delivery_id: str, event: str, payload: dict[str, Any], attempt: int
) -> AttemptOutcome:
    """POST the payload, signed, and log the attempt. `retry` says whether trying again may help."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
    if endpoint is None:
        return AttemptOutcome(None, retry=False)
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Darkroom-Webhooks/1",
        "X-Darkroom-Event": event,
        "X-Darkroom-Delivery": delivery_id,
        **signed_headers(secret=endpoint.secret, body=body),
    }
    status_code, excerpt, error, retry = None, "", "", True
    started = time.monotonic()
    try:
        # Checked again now (the name may resolve elsewhere since), and sent to the checked address.
        target, host, server_name = pinned_target(endpoint.url)
        with httpx.Client(timeout=settings.WEBHOOK_TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                target,
                content=body,
                headers={**headers, "Host": host},
                extensions={"sni_hostname": server_name},
            )
            response = client.send(request)
        status_code, excerpt = response.status_code, response.text[:EXCERPT_CHARS]
        retry = not 200 <= status_code < 300
    except InvalidParams as exc:
        error, retry = exc.message, False
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        delivery_id=delivery_id,
        event=event,
        payload=payload,
        attempt=attempt,
        status_code=status_code,
        response_excerpt=excerpt,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return AttemptOutcome(delivery, retry=retry)
