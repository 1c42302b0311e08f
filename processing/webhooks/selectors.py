"""Reads of webhook endpoints and their delivery log, scoped by vendor."""

from __future__ import annotations

from django.db.models import QuerySet

from processing.webhooks.models import WebhookDelivery, WebhookEndpoint
from vendors.models import Vendor


def endpoint_list(*, vendor: Vendor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(vendor=vendor)


def endpoint_get(*, vendor: Vendor, endpoint_id: int) -> WebhookEndpoint | None:
    return endpoint_list(vendor=vendor).filter(pk=endpoint_id).first()


def endpoints_for_event(*, vendor_id: int, event: str) -> list[WebhookEndpoint]:
    # JSON "contains" differs between SQLite and MySQL; a vendor has few endpoints, so filter here.
    return [e for e in WebhookEndpoint.objects.filter(vendor_id=vendor_id, is_active=True) if event in e.events]


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint)
