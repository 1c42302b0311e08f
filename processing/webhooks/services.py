"""Every change to webhook endpoints, and each delivery attempt with its log row."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from dramatiq.common import compute_backoff
from rest_framework.utils.encoders import JSONEncoder

from processing.jobs.models import Lane
from processing.jobs.services.transitions import retried_on_deadlock
from processing.lib.errors import InvalidOptions, OverLimit, ProcessingError
from processing.lib.http.client import safe_request
from processing.lib.http.guard import AddressPolicy, check_port, check_url, checked_addresses, port_of
from processing.webhooks import selectors
from processing.webhooks.models import QueuedDelivery, WebhookDelivery, WebhookEndpoint, WebhookEvent
from processing.webhooks.signing import new_secret, signed_headers
from vendors.models import Vendor

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 500
PURGE_CHUNK = 1000


def _policy() -> AddressPolicy:
    return AddressPolicy(
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS, ports=_ports(settings.WEBHOOK_ALLOWED_PORTS)
    )


def _ports(ports: list[int]) -> frozenset[int] | None:
    return frozenset(ports) if ports else None


def _checked_url(url: str) -> str:
    """The URL, if it may receive webhooks: its host resolves, only to addresses the policy
    allows. A name that does not exist is refused as one pointing inside is, in the same words
    (no oracle of our internal names); a resolver that fails for now lets it through, and every
    delivery resolves it again and refuses what points inside."""
    parts = check_url(url)
    policy = _policy()
    check_port(port_of(parts), policy)
    if not policy.allow_private:
        try:
            checked_addresses(parts.hostname, port_of(parts), policy)
        except ProcessingError as exc:
            if exc.code != "url_unresolvable":
                raise
    return url


def endpoint_create(*, vendor: Vendor, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once); at most
    WEBHOOK_MAX_ENDPOINTS per vendor, since every event is sent to each of them."""
    chosen = list(dict.fromkeys(events)) if events else list(WebhookEvent.values)
    unknown = [e for e in chosen if e not in WebhookEvent.values]
    if unknown:
        raise InvalidOptions(f"unknown event {unknown[0]!r}; events are {', '.join(WebhookEvent.values)}")
    checked = _checked_url(url)
    with transaction.atomic():
        Vendor.objects.select_for_update().filter(pk=vendor.pk).first()  # one creation per vendor at a time
        if WebhookEndpoint.objects.filter(vendor=vendor).count() >= settings.WEBHOOK_MAX_ENDPOINTS:
            raise OverLimit(
                f"a vendor has at most {settings.WEBHOOK_MAX_ENDPOINTS} webhook endpoints; remove one first",
                code="too_many_webhooks",
            )
        return WebhookEndpoint.objects.create(vendor=vendor, url=checked, secret=new_secret(), events=chosen)


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A fresh secret (the caller shows it once). For WEBHOOK_SECRET_GRACE_H the one it replaces
    still signs every delivery too, so receivers can switch over without missing one; a second
    rotation within that time drops the oldest secret."""
    with transaction.atomic():  # two rotations at once: each keeps the secret the other replaced
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_H)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    logger.info(
        "webhook endpoint %s of vendor %s has a new secret; the previous one signs until %s",
        endpoint.pk,
        endpoint.vendor_id,
        endpoint.previous_secret_expires_at.isoformat(),
        extra={"vendor": endpoint.vendor_id, "endpoint": endpoint.pk},
    )
    return endpoint


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
    now = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Darkroom-Webhooks/2",
        **signed_headers(secrets_=endpoint.signing_secrets(now=now), msg_id=delivery_id, body=body, at=now),
    }
    status_code, excerpt, error, retry = None, "", "", True
    started = time.monotonic()
    try:
        # Checked again now (the name may resolve elsewhere since), and sent to the checked address.
        answer = safe_request(
            "POST",
            endpoint.url,
            policy=_policy(),
            timeout_s=settings.WEBHOOK_TIMEOUT_S,
            max_bytes=EXCERPT_CHARS,
            truncate=True,
            headers=headers,
            content=body,
        )
        status_code, excerpt = answer.status, answer.text[:EXCERPT_CHARS]
        retry = not 200 <= status_code < 300
        if retry:
            _log_failed_attempt(endpoint, event, attempt, f"status {status_code}")
    except ProcessingError as exc:
        # The guard's own: a refused or malformed address (final), or a name that could not be
        # resolved this time (TemporaryError: tried again later, as a connection error is).
        error, retry = exc.message, exc.retryable
        _log_failed_attempt(endpoint, event, attempt, exc.detail)
    except httpx.HTTPError as exc:
        # The vendor sees what kind of failure; the exception's text (it may name addresses
        # inside our network) goes to the operators' log.
        error = DELIVERY_ERRORS.get(type(exc).__name__, "the receiver could not be reached")
        _log_failed_attempt(endpoint, event, attempt, f"{type(exc).__name__}: {exc}")
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


def deliveries_queue(*, vendor_id: int, event: str, data: dict[str, Any]) -> int:
    """Queue `event` for every active endpoint of the vendor that asked for it: one row each, in
    the caller's transaction; admission hands them to the webhooks queue (the caller asks for a
    pass after commit). How many were queued."""
    endpoint_ids = selectors.endpoint_ids_for_event(vendor_id=vendor_id, event=event)
    if not endpoint_ids:
        return 0
    # The Standard Webhooks payload; the delivery id travels as the webhook-id header.
    payload = json.loads(json.dumps({"type": event, "timestamp": timezone.now(), "data": data}, cls=JSONEncoder))
    try:
        with transaction.atomic():
            _queue_rows(vendor_id, endpoint_ids, event, payload)
    except IntegrityError:  # an endpoint deleted since the cached list was read: read it again
        selectors.forget_endpoints(vendor_id=vendor_id)
        endpoint_ids = selectors.endpoint_ids_for_event(vendor_id=vendor_id, event=event)
        _queue_rows(vendor_id, endpoint_ids, event, payload)
    return len(endpoint_ids)


def _queue_rows(vendor_id: int, endpoint_ids: list[int], event: str, payload: dict[str, Any]) -> None:
    QueuedDelivery.objects.bulk_create(
        [QueuedDelivery(vendor_id=vendor_id, endpoint_id=pk, event=event, payload=payload) for pk in endpoint_ids]
    )


def queued_delivery_run(*, queued_id: uuid.UUID | str, dispatch: int) -> AttemptOutcome | None:
    """The attempt a message of admission asks for; None when its delivery is finished or was
    handed out again since (a superseded message). A failure that may pass waits DEFERRED for
    its backoff, holding no worker thread and none of the vendor's slots, until
    WEBHOOK_MAX_RETRIES retries are spent; a delivered or given-up delivery's row is deleted."""
    queued = QueuedDelivery.objects.filter(pk=queued_id, dispatches=dispatch, lane=Lane.IN_FLIGHT).first()
    if queued is None:
        return None
    outcome = delivery_attempt(
        endpoint_id=queued.endpoint_id,
        delivery_id=str(queued.pk),
        event=queued.event,
        payload=queued.payload,
        attempt=queued.attempt,
    )
    mine = QueuedDelivery.objects.filter(pk=queued.pk, dispatches=dispatch, lane=Lane.IN_FLIGHT)
    if outcome.retry and outcome.delivery is not None:
        if queued.attempt <= settings.WEBHOOK_MAX_RETRIES:
            # Dramatiq's own backoff rule: min backoff x 2^retries, with jitter, up to the max.
            _, backoff_ms = compute_backoff(
                queued.attempt - 1, factor=settings.WEBHOOK_MIN_BACKOFF_MS, max_backoff=settings.WEBHOOK_MAX_BACKOFF_MS
            )
            # A compare-and-set in autocommit: a deadlock with admission's row locks (seen in the
            # rehearsal) rolled back only itself, so it is run again rather than the whole attempt.
            retried_on_deadlock(mine.update)(
                lane=Lane.DEFERRED,
                attempt=F("attempt") + 1,
                not_before=timezone.now() + timedelta(milliseconds=backoff_ms),
                dispatched_at=None,
            )
            return outcome
        _log_given_up(queued, outcome.delivery)
    retried_on_deadlock(mine.delete)()
    return outcome


def _log_given_up(queued: QueuedDelivery, delivery: WebhookDelivery) -> None:
    reason = f"status {delivery.status_code}" if delivery.status_code else delivery.error
    logger.error(
        "webhook %s of vendor %s to endpoint %s gave up after %s attempts (%s)",
        queued.event,
        queued.vendor_id,
        queued.endpoint_id,
        queued.attempt,
        reason,
        extra={"vendor": queued.vendor_id, "endpoint": queued.endpoint_id, "delivery_id": str(queued.pk)},
    )


DELIVERY_ERRORS = {
    "ConnectTimeout": "the receiver did not accept the connection in time",
    "ReadTimeout": "the receiver did not answer in time",
    "WriteTimeout": "the receiver did not take the request in time",
    "PoolTimeout": "the receiver did not answer in time",
    "ConnectError": "the receiver refused the connection or could not be reached",
    "RemoteProtocolError": "the receiver's answer was not valid HTTP",
    "UnreadableAnswer": "the receiver's answer could not be decoded",
}


def _log_failed_attempt(endpoint: WebhookEndpoint, event: str, attempt: int, detail: str) -> None:
    logger.warning(
        "webhook %s to endpoint %s of vendor %s, attempt %s, failed: %s",
        event,
        endpoint.pk,
        endpoint.vendor_id,
        attempt,
        detail,
        extra={"vendor": endpoint.vendor_id, "endpoint": endpoint.pk},
    )


def deliveries_purge(*, now: datetime | None = None) -> int:
    """Remove the delivery log rows of events whose jobs retention has removed: a job.succeeded
    delivery after JOB_RETENTION_SUCCEEDED_H, a job.failed one after JOB_RETENTION_FAILED_H, any
    other (batch.finished) after the longer of the two. Runs with every retention pass."""
    now = now or timezone.now()
    succeeded, failed = settings.JOB_RETENTION_SUCCEEDED_H, settings.JOB_RETENTION_FAILED_H
    ages = {WebhookEvent.JOB_SUCCEEDED: succeeded, WebhookEvent.JOB_FAILED: failed}
    removed = 0
    for event in WebhookEvent.values:
        cutoff = now - timedelta(hours=ages.get(event, max(succeeded, failed)))
        expired = WebhookDelivery.objects.filter(event=event, created_at__lt=cutoff)
        while chunk := list(expired.values_list("pk", flat=True)[:PURGE_CHUNK]):
            removed += WebhookDelivery.objects.filter(pk__in=chunk).delete()[0]
    if removed:
        logger.info("retention removed %s webhook delivery rows", removed)
    return removed
