"""Who may follow which job or batch, through the API's own token and session rules."""

import pytest
from rest_framework.test import APIClient

from processing.jobs import services
from tests.api.events.sse import events_of
from tests.factories import make_job, make_record
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

SSE = {"HTTP_ACCEPT": "text/event-stream"}


@pytest.fixture
def cancelled_job(vendor):
    job = make_job(vendor)
    services.job_cancel(job=job)
    return job


def stream_of(response) -> list:
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"].startswith("text/event-stream")
    return events_of(b"".join(response.streaming_content))


@pytest.mark.parametrize("who", ["owner", "member"])
def test_members_of_the_vendor_follow_its_job_to_its_end(request, who, cancelled_job):
    user = request.getfixturevalue(who)
    events = stream_of(client_for(user).get(f"/api/v1/events/?job={cancelled_job.pk}", **SSE))
    assert [e.name for e in events] == ["end"]
    assert events[0].data["id"] == str(cancelled_job.pk)
    assert events[0].data["state"] == "cancelled"
    assert events[0].data["progress"]["stage"] == "cancelled"


def test_a_signed_in_session_may_follow_a_job(owner, cancelled_job):
    client = APIClient()
    client.force_login(owner)
    events = stream_of(client.get(f"/api/v1/events/?job={cancelled_job.pk}", **SSE))
    assert events[-1].name == "end"


def test_another_vendor_gets_a_json_404(outsider, cancelled_job):
    response = client_for(outsider).get(f"/api/v1/events/?job={cancelled_job.pk}", **SSE)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_vendors_batch_is_a_json_404_too(vendor, outsider):
    batch = services.batch_create(vendor=vendor, kind="sleepy", records=[make_record(vendor)])
    response = client_for(outsider).get(f"/api/v1/events/?batch={batch.pk}", **SSE)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_callers_are_refused(cancelled_job):
    response = APIClient().get(f"/api/v1/events/?job={cancelled_job.pk}", **SSE)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("", 400, "invalid_query"),
        ("?job=not-a-uuid", 404, "not_found"),
        ("?job=00000000-0000-0000-0000-000000000000", 404, "not_found"),
    ],
)
def test_a_stream_needs_one_existing_job_or_batch(owner, query, status, code):
    response = client_for(owner).get(f"/api/v1/events/{query}", **SSE)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["type"] == f"/api/problems/{code}" and problem["status"] == status


def test_a_finished_batch_stream_ends_with_its_totals(vendor, owner):
    batch = services.batch_create(vendor=vendor, kind="sleepy", records=[make_record(vendor), make_record(vendor)])
    services.batch_cancel(batch=batch)
    events = stream_of(client_for(owner).get(f"/api/v1/events/?batch={batch.pk}", **SSE))
    assert [e.name for e in events] == ["end"]
    end = events[0].data
    assert end["id"] == str(batch.pk)
    assert end["finished"] is True
    assert end["total"] == 2
