"""Reads of webhook endpoints and their delivery log, scoped by vendor."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db.models import QuerySet

from processing.webhooks.models import WebhookDelivery, WebhookEndpoint
from vendors.models import Vendor

logger = logging.getLogger(__name__)


def endpoint_list(*, vendor: Vendor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(vendor=vendor)


def endpoint_get(*, vendor: Vendor, endpoint_id: int) -> WebhookEndpoint | None:
    return endpoint_list(vendor=vendor).filter(pk=endpoint_id).first()


ENDPOINTS_CACHE_KEY = "webhooks:endpoints:{vendor_id}"
ENDPOINTS_CACHE_S = 60  # a safety net: saving or deleting an endpoint clears its vendor's entry


def endpoint_ids_for_event(*, vendor_id: int, event: str) -> list[int]:
    """The vendor's active endpoints that asked for `event`. Asked for every finished job, so
    the answer is cached per vendor (a vendor without endpoints costs no SQL per job)."""
    key = ENDPOINTS_CACHE_KEY.format(vendor_id=vendor_id)
    try:
        active = cache.get(key)
    except Exception:  # Redis down: the database still answers
        active = None
    if active is None:
        # JSON "contains" differs between SQLite and MySQL; a vendor has few endpoints, so filter here.
        active = list(WebhookEndpoint.objects.filter(vendor_id=vendor_id, is_active=True).values_list("pk", "events"))
        try:
            cache.set(key, active, ENDPOINTS_CACHE_S)
        except Exception:
            pass
    return [pk for pk, events in active if event in events]


def forget_endpoints(*, vendor_id: int) -> None:
    try:
        cache.delete(ENDPOINTS_CACHE_KEY.format(vendor_id=vendor_id))
    except Exception:  # the entry expires within ENDPOINTS_CACHE_S
        logger.warning("could not clear the cached webhook endpoints of vendor %s", vendor_id, exc_info=True)


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint)
