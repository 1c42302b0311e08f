"""/admin/usage/: operators read a month of usage per vendor × kind, sorted as they click, and
download it as CSV for invoicing (issue 23, point 3). Staff only."""

import csv
import io
from datetime import date

import pytest

from processing.jobs import usage
from tests.factories import make_vendor

pytestmark = pytest.mark.django_db


def add(vendor, day: date, kind: str, step_kind: str = "", **amounts):
    usage.usage_add(counts=[usage.Count(vendor_id=vendor.pk, kind=kind, step_kind=step_kind, day=day, amounts=amounts)])


@pytest.fixture
def november(vendor):
    globex = make_vendor("globex")
    add(vendor, date(2026, 11, 2), "remove_bg", submitted=10, succeeded=9, failed=1, images=9, worker_ms=4500)
    add(vendor, date(2026, 11, 28), "remove_bg", submitted=3, succeeded=3, images=3)
    add(vendor, date(2026, 11, 28), "pipeline", submitted=1, succeeded=1, images=2)
    add(vendor, date(2026, 11, 28), "pipeline", step_kind="remove_bg", images=2)
    add(globex, date(2026, 11, 15), "transform", submitted=40, succeeded=40, images=40)
    add(globex, date(2026, 12, 1), "transform", submitted=99, succeeded=99, images=99)  # December: not counted
    add(vendor, date(2026, 10, 31), "remove_bg", submitted=77, succeeded=77, images=77)  # October: not counted


def shown(response) -> list[tuple[str, str, str]]:
    """(vendor, kind, images) per row, as the table lists them."""
    return [(row["vendor"], row["kind"], str(row["images"])) for row in response.context["rows"]]


def test_the_month_per_vendor_and_kind_sorted_by_any_column(staff, november):
    response = staff.get("/admin/usage/", {"month": "2026-11"})
    assert response.status_code == 200
    assert shown(response) == [("acme", "pipeline", "2"), ("acme", "remove_bg", "12"), ("globex", "transform", "40")]
    assert b'data-vendor="globex" data-kind="transform"' in response.content
    by_images = staff.get("/admin/usage/", {"month": "2026-11", "sort": "-images"})
    assert shown(by_images) == [("globex", "transform", "40"), ("acme", "remove_bg", "12"), ("acme", "pipeline", "2")]
    assert shown(staff.get("/admin/usage/", {"month": "2026-11", "sort": "images"}))[0] == ("acme", "pipeline", "2")
    only = staff.get("/admin/usage/", {"month": "2026-11", "vendor": "globex"})
    assert shown(only) == [("globex", "transform", "40")]


def test_a_malformed_month_is_said_not_a_500(staff, november):
    response = staff.get("/admin/usage/", {"month": "2026-13"})
    assert response.status_code == 400 and b"is not a month written YYYY-MM" in response.content
    assert staff.get("/admin/usage/usage.csv", {"month": "nope"}).status_code == 400


def test_the_csv_has_one_line_per_vendor_and_kind(staff, november):
    response = staff.get("/admin/usage/usage.csv", {"month": "2026-11"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="darkroom-usage-2026-11.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["month"], r["vendor"], r["kind"], r["images"], r["submitted"]) for r in rows] == [
        ("2026-11", "acme", "pipeline", "2", "1"),
        ("2026-11", "acme", "remove_bg", "12", "13"),
        ("2026-11", "globex", "transform", "40", "40"),
    ]
    assert rows[1]["worker_seconds"] == "4.500" and rows[1]["failed"] == "1"


def test_only_staff_see_it(client, browser_for, owner, november):
    for url in ("/admin/usage/?month=2026-11", "/admin/usage/usage.csv?month=2026-11"):
        assert client.get(url).status_code == 302, "anonymous: to the admin's sign-in"
        assert browser_for(owner).get(url).status_code == 302, "a vendor's owner is not staff"
