"""X-Request-ID: taken when sane or made up, echoed, on the request's log lines, and carried into
the jobs the request creates and the worker's log lines for them."""

import logging

import pytest

from processing.engine.tasks import actor_for
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sane_request_id_is_echoed(owner):
    response = client_for(owner).get("/api/v1/jobs/", HTTP_X_REQUEST_ID="lb-7f3a.02_x")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a.02_x"


@pytest.mark.parametrize("given", [None, "", "a" * 129, "has space", "semi;colon", "ünï"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_fresh_one(owner, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    first = client_for(owner).get("/api/v1/jobs/", **headers)["X-Request-ID"]
    second = client_for(owner).get("/api/v1/jobs/", **headers)["X-Request-ID"]
    assert first != given and len(first) == 32 and int(first, 16) >= 0, "a uuid4 in hex"
    assert first != second


def test_pages_outside_the_api_get_one_too(client):
    assert len(client.get("/accounts/login/")["X-Request-ID"]) == 32


def test_lines_logged_while_a_request_is_served_carry_its_id(owner, json_lines):
    log = logging.getLogger("tests.ops.request")
    missing = client_for(owner).get("/api/v1/jobs/6f1c0b7e-0000-4000-8000-000000000000/", HTTP_X_REQUEST_ID="req-404")
    assert missing.status_code == 404
    log.info("between requests")

    lines = json_lines()
    (not_found,) = [line for line in lines if line["name"] == "django.request"]
    assert not_found["request_id"] == "req-404", "Django's own line for the 404"
    (after,) = [line for line in lines if line["message"] == "between requests"]
    assert "request_id" not in after, "the id ends with its response"


def test_a_job_carries_the_id_of_the_request_that_created_it_into_the_worker(owner, vendor, clean_redis, json_lines):
    record = make_record(vendor)
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "isolated", "record": record.pk}, format="json", HTTP_X_REQUEST_ID="req-job-1"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.request_id == "req-job-1"

    actor_for("isolated")(str(job.pk))  # the actor's function, run here as a worker thread would
    assert Job.objects.get(pk=job.pk).state == "succeeded"
    worker_lines = [line for line in json_lines() if line.get("job_id") == str(job.pk)]
    assert worker_lines, "the run logs lines about the job"
    assert {line["request_id"] for line in worker_lines} == {"req-job-1"}


def test_bulk_jobs_carry_the_request_id_too(owner):
    response = client_for(owner).post(
        "/api/v1/jobs/bulk/",
        {"kind": "transform", "image_urls": ["https://example.com/a.jpg", "https://example.com/b.jpg"]},
        format="json",
        HTTP_X_REQUEST_ID="req-bulk",
    )
    assert response.status_code == 202, response.content
    assert set(Job.objects.filter(batch_id=response.json()["batch"]).values_list("request_id", flat=True)) == {
        "req-bulk"
    }


def test_the_admin_job_page_shows_the_request_id(admin_client, vendor):
    job = Job.objects.create(vendor=vendor, kind="transform", request_id="req-admin-1")
    page = admin_client.get(f"/admin/processing/job/{job.pk}/change/")
    assert page.status_code == 200
    assert b"req-admin-1" in page.content
