"""GET /api/v1/usage/: a vendor reads its own ledger, by UTC day, with totals (issue 23, point 3)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from processing.jobs import services, usage
from tests.factories import make_record
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def add(vendor, day: date, kind: str, step_kind: str = "", **amounts):
    usage.usage_add(counts=[usage.Count(vendor_id=vendor.pk, kind=kind, step_kind=step_kind, day=day, amounts=amounts)])


@pytest.fixture
def ledger(vendor, outsider):
    """acme: November 2026's remove_bg and pipeline work; globex: some of its own."""
    add(vendor, date(2026, 11, 3), "remove_bg", submitted=5, succeeded=4, failed=1, images=4, worker_ms=2500)
    add(vendor, date(2026, 11, 3), "remove_bg", submitted=1, succeeded=1, images=1, output_bytes=10)
    add(vendor, date(2026, 11, 20), "pipeline", submitted=2, succeeded=2, images=6)
    add(vendor, date(2026, 11, 20), "pipeline", step_kind="remove_bg", images=2)
    add(vendor, date(2026, 11, 20), "pipeline", step_kind="transform", images=4)
    add(vendor, date(2026, 12, 1), "transform", submitted=9, succeeded=9, images=9)
    globex = outsider.memberships.get().vendor
    add(globex, date(2026, 11, 3), "remove_bg", submitted=70, succeeded=70, images=70)


@pytest.mark.parametrize("who", ["owner", "member"])
def test_owner_and_member_read_their_vendors_days_and_totals(ledger, owner, member, who):
    client = client_for(owner if who == "owner" else member)
    response = client.get("/api/v1/usage/", {"from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["kind"]) == ("2026-11-01", "2026-11-30", None)
    assert [(row["day"], row["kind"], row["step_kind"], row["images"]) for row in body["days"]] == [
        ("2026-11-03", "remove_bg", "", 5),
        ("2026-11-20", "pipeline", "", 6),
        ("2026-11-20", "pipeline", "remove_bg", 2),
        ("2026-11-20", "pipeline", "transform", 4),
    ]
    first = body["days"][0]
    assert (first["submitted"], first["succeeded"], first["failed"], first["worker_seconds"]) == (6, 5, 1, 2.5)
    assert body["totals"]["images"] == 11 and body["totals"]["submitted"] == 8, "step rows are not added twice"
    assert body["kinds"]["remove_bg"]["output_bytes"] == 10
    assert body["steps"] == {"remove_bg": 2, "transform": 4}


def test_a_kind_filter_and_the_default_span(ledger, owner, vendor):
    client = client_for(owner)
    body = client.get("/api/v1/usage/", {"from": "2026-11-01", "to": "2026-12-31", "kind": "transform"}).json()
    assert [row["kind"] for row in body["days"]] == ["transform"] and body["totals"]["images"] == 9
    # Without from/to: the last 30 days to today.
    services.job_create(vendor=vendor, kind="transform", params={"width": 8}, record=make_record(vendor))
    body = client.get("/api/v1/usage/").json()
    today = timezone.now().date()
    assert (body["from"], body["to"]) == (str(today - timedelta(days=29)), str(today))
    assert body["kinds"]["transform"]["submitted"] == (10 if today - date(2026, 12, 1) < timedelta(days=30) else 1)


def test_another_vendor_reads_only_its_own(ledger, outsider):
    body = client_for(outsider).get("/api/v1/usage/", {"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert body["totals"]["images"] == 70 and set(body["kinds"]) == {"remove_bg"}


def test_anonymous_callers_get_401(api, ledger):
    response = api.get("/api/v1/usage/", {"from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from", "invalid"),
        ({"from": "yesterday"}, "from", "invalid"),
        ({"to": ""}, "to", "invalid"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "from", "invalid_range"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "from", "range_too_long"),
        ({"kind": "nope"}, "kind", "invalid_choice"),
    ],
)
def test_bad_dates_and_spans_are_400_problems(owner, query, field, code):
    response = client_for(owner).get("/api/v1/usage/", query)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["field"], body["code"], body["status"]) == (field, code, 400)


def test_a_whole_leap_year_is_one_request(owner):
    response = client_for(owner).get("/api/v1/usage/", {"from": "2028-01-01", "to": "2028-12-31"})
    assert response.status_code == 200, "366 days is the most one request may read"


def test_the_schema_documents_it(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/usage/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"from", "to", "kind"}
    assert {"200", "400", "401"} <= set(operation["responses"])


def test_the_daily_storage_sample_is_read_with_the_days(owner, vendor, outsider):
    from processing.jobs.models import StorageDay
    from vendors.models import Vendor

    now = timezone.now()
    Vendor.objects.filter(pk=vendor.pk).update(storage_bytes=1000)
    assert usage.usage_sample_storage(now=now) >= 2
    Vendor.objects.filter(pk=vendor.pk).update(storage_bytes=1500)
    usage.usage_sample_storage(now=now)  # again the same day: the newer figure, still one row
    assert StorageDay.objects.filter(vendor=vendor).count() == 1
    body = client_for(owner).get("/api/v1/usage/").json()
    assert body["storage"] == [{"day": str(now.date()), "originals_bytes": 1500}]
    assert client_for(outsider).get("/api/v1/usage/").json()["storage"] == [
        {"day": str(now.date()), "originals_bytes": 0}
    ]
