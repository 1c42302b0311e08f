"""The webhook delivery log does not grow for ever: each retention pass (the periodic task, the
`darkroom cleanup` command) removes the deliveries of events whose jobs it removes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processing.jobs.services import jobs_purge_finished
from processing.webhooks import services
from processing.webhooks.models import WebhookDelivery, WebhookEvent


def delivery(endpoint, event, age_h):
    row = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload={"data": {}}, status_code=204)
    WebhookDelivery.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=age_h))
    return row.pk


@pytest.mark.django_db
def test_retention_removes_deliveries_as_old_as_the_jobs_it_removes(vendor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.JOB_RETENTION_SUCCEEDED_H = 24
    settings.JOB_RETENTION_FAILED_H = 72
    endpoint = services.endpoint_create(vendor=vendor, url="http://127.0.0.1:9/hook")
    old_success = delivery(endpoint, WebhookEvent.JOB_SUCCEEDED, age_h=25)
    recent_success = delivery(endpoint, WebhookEvent.JOB_SUCCEEDED, age_h=23)
    failure_kept_longer = delivery(endpoint, WebhookEvent.JOB_FAILED, age_h=25)
    old_failure = delivery(endpoint, WebhookEvent.JOB_FAILED, age_h=73)
    old_batch = delivery(endpoint, WebhookEvent.BATCH_FINISHED, age_h=73)
    recent_batch = delivery(endpoint, WebhookEvent.BATCH_FINISHED, age_h=30)

    jobs_purge_finished()

    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {recent_success, failure_kept_longer, recent_batch}
    assert not {old_success, old_failure, old_batch} & left


@pytest.mark.django_db
def test_a_failing_delivery_purge_does_not_stop_job_retention(vendor, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "deliveries_purge", broken)
    assert jobs_purge_finished().jobs == 0  # no exception: retention of jobs carried on
