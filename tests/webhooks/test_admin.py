import pytest
from django.contrib import admin

from processing.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_operators_see_webhook_endpoints_and_deliveries_but_never_the_secret(staff, vendor):
    endpoint = WebhookEndpoint.objects.create(vendor=vendor, url="https://hooks.example/in", secret="s3cr3t-value")
    WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", payload={}, status_code=500, error="boom")
    listed = staff.get("/admin/webhooks/webhookdelivery/")
    assert listed.status_code == 200 and b"job.failed" in listed.content
    detail = staff.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert detail.status_code == 200 and b"hooks.example" in detail.content
    assert b"s3cr3t-value" not in detail.content


def test_the_empty_django_dramatiq_task_log_is_not_offered():
    from django_dramatiq.models import Task

    assert not admin.site.is_registered(Task)
