"""Retention: a plan's retention_days (or a vendor's override; none: forever) and the retention
run deletes records older than that, as a delete does, in bounded batches; vendors see the rule
in /api/v1/quota/ and on the portal's dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from processing.jobs import services
from tests.factories import make_record
from tests.support.clients import client_for
from tests.support.media import record_files, stored_files
from vendors.models import AuditEvent, Plan, Record, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


def aged(record, days: float):
    Record.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=days))
    return record


def test_records_past_the_plans_retention_go_with_their_files(vendor, stored_record):
    Plan.objects.filter(slug="standard").update(retention_days=30)
    old, finished, waiting = stored_record
    aged(old, 31)
    recent = aged(make_record(vendor), 29)
    names = record_files(old)

    report = services.jobs_purge_finished()

    assert report.records == 1
    assert not Record.objects.filter(pk=old.pk).exists() and Record.objects.filter(pk=recent.pk).exists()
    assert not names & stored_files() and record_files(recent) <= stored_files()
    assert Vendor.objects.get(pk=vendor.pk).storage_bytes == recent.size_bytes
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_kind, event.count, event.details["retention_days"]) == (
        "records.expired",
        "system",
        1,
        30,
    )


def test_a_vendor_override_keeps_records_forever_or_shortens_the_plans_days(vendor, outsider):
    Plan.objects.filter(slug="standard").update(retention_days=30)
    Vendor.objects.filter(pk=vendor.pk).update(limit_overrides={"retention_days": None})  # acme: forever
    kept = aged(make_record(vendor), 400)
    other = Vendor.objects.get(slug="globex")
    Vendor.objects.filter(pk=other.pk).update(limit_overrides={"retention_days": 7})
    gone = aged(make_record(other), 8)

    services.jobs_purge_finished()

    assert Record.objects.filter(pk=kept.pk).exists()
    assert not Record.objects.filter(pk=gone.pk).exists()


def test_one_run_deletes_at_most_its_batch_limit(vendor, settings):
    Plan.objects.filter(slug="standard").update(retention_days=1)
    records = [aged(make_record(vendor), 2) for _ in range(5)]
    settings.RETENTION_RECORDS_PER_RUN = 3

    assert services.jobs_purge_finished().records == 3
    assert Record.objects.filter(pk__in=[r.pk for r in records]).count() == 2
    assert services.jobs_purge_finished().records == 2
    assert not Record.objects.filter(vendor=vendor).exists()


def test_vendors_see_the_rule_in_the_quota_answer_and_on_the_dashboard(vendor, owner, member, browser_for):
    assert client_for(owner).get("/api/v1/quota/").json()["retention"] == {"days": None}
    assert "kept until you delete them" in browser_for(member).get("/").content.decode()

    Plan.objects.filter(slug="standard").update(retention_days=30)

    assert client_for(member).get("/api/v1/quota/").json()["retention"] == {"days": 30}
    assert "deleted 30 days after upload" in browser_for(owner).get("/").content.decode()
