"""The queue dashboard at /admin/queues/ and the JSON it polls: staff only."""

import pytest

from tests.factories import fail_job, make_job, make_vendor, succeed_job
from vendors.services import vendor_set_paused

pytestmark = pytest.mark.django_db


def sleepy_row(data):
    return next(q for q in data["queues"] if q["kind"] == "sleepy")


def test_the_json_counts_each_queue_by_state(staff, vendor, clean_redis):
    make_job(vendor)
    make_job(vendor)
    fail_job(make_job(vendor))
    succeed_job(make_job(vendor))
    paused = make_vendor("paused-co")
    make_job(paused)
    vendor_set_paused(vendor=paused, paused=True)

    response = staff.get("/admin/queues/data.json")

    assert response.status_code == 200
    data = response.json()
    row = sleepy_row(data)
    assert (row["waiting"], row["delayed"], row["running"], row["failed"], row["completed_1h"]) == (2, 1, 0, 1, 1)
    assert row["per_minute"] == round(1 / 60, 2)
    assert row["oldest_waiting_s"] is not None and row["oldest_waiting_s"] >= 0
    transform = next(q for q in data["queues"] if q["kind"] == "transform")
    assert transform["waiting"] == 0 and transform["oldest_waiting_s"] is None
    assert data["workers"] == []


def test_the_page_shows_every_queue_and_polls_the_json(staff, vendor, clean_redis):
    make_job(vendor)

    response = staff.get("/admin/queues/")

    assert response.status_code == 200
    html = response.content.decode()
    for kind in ("remove_bg", "face_crop", "transform", "sleepy"):
        assert f'data-kind="{kind}"' in html
    assert 'data-poll-url="/admin/queues/data.json"' in html
    assert "Queues and workers" in html
    assert sleepy_row(response.context["data"])["waiting"] == 1  # the first paint, before any poll
    assert 'id="dr-initial"' in html


@pytest.mark.parametrize("url", ["/admin/queues/", "/admin/queues/data.json"])
def test_a_vendor_user_is_refused(client, owner, url):
    client.force_login(owner)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", ["/admin/queues/", "/admin/queues/data.json"])
def test_an_anonymous_visitor_is_sent_to_the_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
