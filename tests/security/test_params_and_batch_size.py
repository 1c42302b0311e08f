"""No unbounded request: params are options (≈16 KB of JSON at most), stored once per batch, and
no batch, from the API or the portal, holds more than the bulk limit."""

import pytest

from processing.jobs.models import Batch, Job
from tests.factories import image_upload as upload
from tests.support.clients import client_for
from vendors import services as vendor_services

BIG_OPTIONS = {"endpoint": "tagger", "options": {"blob": "x" * 20_000}}


@pytest.fixture
def tagger(settings):
    settings.AI_ENDPOINTS = {"tagger": {"url": "http://127.0.0.1:9/tag"}}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/jobs/", "/api/v1/jobs/bulk/"])
def test_params_over_the_limit_are_refused_and_nothing_is_stored(owner, tagger, path):
    body = {"kind": "ai_endpoint", "params": BIG_OPTIONS}
    body.update({"image_url": "https://example.com/a.jpg"} if path.endswith("jobs/") else {})
    body.update({"image_urls": ["https://example.com/a.jpg"]} if "bulk" in path else {})

    refused = client_for(owner).post(path, body, format="json")

    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "params_too_large"
    assert refused.json()["field"] == "params"
    assert Job.objects.count() == 0 and Batch.objects.count() == 0
    usage = {q["name"]: q["used"] for q in client_for(owner).get("/api/v1/quota/").json()["limits"]}
    assert usage["bulk"] == 0 and usage["image_requests"] == 0  # the charge was given back


@pytest.mark.django_db
def test_a_batch_stores_its_params_once_and_its_jobs_run_with_them(owner, tagger):
    urls = [f"https://example.com/{n}.jpg" for n in range(5)]
    params = {"endpoint": "tagger", "options": {"labels": ["shoe", "boot"]}}

    started = client_for(owner).post(
        "/api/v1/jobs/bulk/", {"kind": "ai_endpoint", "params": params, "image_urls": urls}, format="json"
    )

    assert started.status_code == 202, started.content
    batch = Batch.objects.get()
    assert batch.params["options"] == {"labels": ["shoe", "boot"]}
    jobs = list(Job.objects.filter(batch=batch))
    assert len(jobs) == 5
    assert all(job.params == {} for job in jobs)  # not copied into every row
    assert all(job.run_params == batch.params for job in jobs)


@pytest.mark.django_db
def test_the_portal_refuses_a_start_on_more_photos_than_the_bulk_limit(browser_for, owner, vendor, settings):
    settings.BULK_MAX_ITEMS = 3
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    for i in range(4):
        vendor_services.record_create(project=project, upload=upload(f"p{i}.png"))
    browser = browser_for(owner)

    refused = browser.post(
        f"/projects/{project.pk}/start/", {"kind": "transform", "all_records": "on"}, HTTP_ACCEPT="application/json"
    )

    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "batch_too_large"
    assert Job.objects.count() == 0
