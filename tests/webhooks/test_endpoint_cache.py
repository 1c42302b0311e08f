"""Which endpoints want an event is asked for every finished job: a vendor without endpoints
must cost no SQL per job, and an endpoint added or removed must count at once."""

import pytest

from processing.webhooks import selectors, services
from processing.webhooks.models import WebhookEndpoint
from tests.factories import make_vendor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]  # endpoint cache, quota counters

HOOK = "http://127.0.0.1:9/hooks"


def test_a_vendor_without_endpoints_is_looked_up_once(django_assert_num_queries):
    vendor = make_vendor("quiet")
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.succeeded") == []
    with django_assert_num_queries(0):
        for _ in range(3):
            assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.succeeded") == []


def test_an_endpoint_added_or_removed_counts_at_once():
    vendor = make_vendor("hooked")
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.failed") == []
    endpoint = services.endpoint_create(vendor=vendor, url=HOOK, events=["job.failed"])
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.failed") == [endpoint.pk]
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.succeeded") == []
    endpoint.is_active = False
    endpoint.save()
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.failed") == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    assert selectors.endpoint_ids_for_event(vendor_id=vendor.pk, event="job.failed") == []
