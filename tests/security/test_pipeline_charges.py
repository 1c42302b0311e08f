"""A pipeline costs what its steps do: ten remove_bg steps are ten background removals per image,
on every path (API single, bulk and retry, portal start and retry), and a pipeline's steps take
their own kind's global rate-limit slot."""

import json

import pytest

from processing.engine.runner import job_run
from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.states import JobState
from tests.factories import image_upload as upload
from tests.support.clients import client_for
from vendors import services as vendor_services

TEN_REMOVALS = {"steps": [{"kind": "remove_bg"}] * 10}  # the standard plan allows 30 removals an hour


def pipeline(n_remove_bg: int) -> dict:
    return {"steps": [{"kind": "remove_bg"}] * n_remove_bg}


@pytest.mark.django_db
def test_a_single_pipeline_job_is_charged_per_remove_bg_step(owner):
    client = client_for(owner)
    body = {"kind": "pipeline", "params": TEN_REMOVALS, "image_url": "https://example.com/a.jpg"}

    codes = [client.post("/api/v1/jobs/", body, format="json").status_code for _ in range(4)]

    assert codes == [202, 202, 202, 429]
    quota = {q["name"]: q for q in client.get("/api/v1/quota/").json()["limits"]}
    assert quota["remove_bg"]["used"] == 30


@pytest.mark.django_db
def test_a_bulk_of_pipelines_that_would_go_over_the_removals_is_refused_whole(owner):
    client = client_for(owner)
    urls = [f"https://example.com/{n}.jpg" for n in range(4)]  # 4 images x 10 steps = 40 > 30

    refused = client.post(
        "/api/v1/jobs/bulk/", {"kind": "pipeline", "params": TEN_REMOVALS, "image_urls": urls}, format="json"
    )

    assert refused.status_code == 429
    assert refused.json()["limit"] == "remove_bg"
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_retrying_a_pipeline_job_is_charged_its_steps_again(owner, vendor):
    vendor.limit_overrides = {"remove_bg_limit": 15}
    vendor.save()
    client = client_for(owner)
    job = services.job_create(vendor=vendor, kind="pipeline", params=TEN_REMOVALS, image_url="https://e.com/a.jpg")
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED)
    body = {"kind": "pipeline", "params": TEN_REMOVALS, "image_url": "https://e.com/b.jpg"}
    assert client.post("/api/v1/jobs/", body, format="json").status_code == 202  # 10 of 15 used

    retried = client.post(f"/api/v1/jobs/{job.pk}/retry/")

    assert retried.status_code == 429, retried.json()
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED


@pytest.mark.django_db
def test_the_portal_charges_a_pipeline_per_step(browser_for, owner, vendor):

    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    records = [vendor_services.record_create(project=project, upload=upload(f"p{i}.png")) for i in range(4)]
    browser = browser_for(owner)
    steps = json.dumps(pipeline(8)["steps"])  # 8 steps x 4 photos = 32 removals > 30
    form = {"kind": "pipeline", "records": [r.pk for r in records], "p-pipeline-steps": steps}

    refused = browser.post(f"/projects/{project.pk}/start/", form, HTTP_ACCEPT="application/json")

    assert refused.status_code == 429, refused.content
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_a_pipelines_ai_endpoint_steps_wait_for_the_ai_endpoint_rate_limit(vendor, settings):
    settings.JOB_RATE_LIMITS_PER_S = {"ai_endpoint": 1}
    settings.JOB_RATE_LIMIT_WAIT_S = 0
    settings.AI_ENDPOINTS = {"tagger": {"url": "http://127.0.0.1:9/tag"}}
    steps = {"steps": [{"kind": "ai_endpoint", "params": {"endpoint": "tagger"}}] * 2}
    job = services.job_create(vendor=vendor, kind="pipeline", params=steps, upload=upload())

    job_run(job_id=str(job.pk), kind="pipeline")  # the second step finds no ai_endpoint slot this second

    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0
    assert "ai_endpoint rate limit" in job.progress_message


# Issue 22, point 1: a step kind is exactly a kind's name. The serializer used to strip
# whitespace while the charge counted the raw spelling, so " remove_bg" ran as a background
# removal and was charged none.
NEAR_MISSES = [" remove_bg", "remove_bg\n", "\tremove_bg"]


def removals_used(client) -> int:
    quota = {q["name"]: q for q in client.get("/api/v1/quota/").json()["limits"]}
    return quota["remove_bg"]["used"]


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", NEAR_MISSES)
def test_a_step_kind_with_whitespace_is_refused_through_the_api_single(owner, spelling):
    client = client_for(owner)
    body = {"kind": "pipeline", "params": {"steps": [{"kind": spelling}]}, "image_url": "https://e.com/a.jpg"}

    refused = client.post("/api/v1/jobs/", body, format="json")

    assert refused.status_code == 400, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["field"] == "params"
    assert repr(spelling) in refused.json()["detail"]
    assert Job.objects.count() == 0
    assert removals_used(client) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", NEAR_MISSES)
def test_a_step_kind_with_whitespace_is_refused_through_the_api_bulk(owner, spelling):
    client = client_for(owner)
    steps = [{"kind": "remove_bg"}, {"kind": spelling}]
    urls = [f"https://e.com/{n}.jpg" for n in range(3)]

    refused = client.post(
        "/api/v1/jobs/bulk/", {"kind": "pipeline", "params": {"steps": steps}, "image_urls": urls}, format="json"
    )

    assert refused.status_code == 400, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert Job.objects.count() == 0
    assert removals_used(client) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", NEAR_MISSES)
def test_a_step_kind_with_whitespace_is_refused_through_the_portal(browser_for, owner, vendor, spelling):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    records = [vendor_services.record_create(project=project, upload=upload(f"p{i}.png")) for i in range(2)]
    browser = browser_for(owner)
    form = {
        "kind": "pipeline",
        "records": [r.pk for r in records],
        "p-pipeline-steps": json.dumps([{"kind": spelling}]),
    }

    refused = browser.post(f"/projects/{project.pk}/start/", form, HTTP_ACCEPT="application/json")

    assert refused.status_code == 400, refused.content
    assert Job.objects.count() == 0
    assert removals_used(client_for(owner)) == 0


@pytest.mark.django_db
def test_exact_remove_bg_steps_are_charged_one_removal_each_single_and_bulk(owner):
    client = client_for(owner)
    single = {"kind": "pipeline", "params": pipeline(1), "image_url": "https://e.com/a.jpg"}
    bulk = {"kind": "pipeline", "params": pipeline(2), "image_urls": ["https://e.com/b.jpg", "https://e.com/c.jpg"]}

    assert client.post("/api/v1/jobs/", single, format="json").status_code == 202
    assert removals_used(client) == 1
    assert client.post("/api/v1/jobs/bulk/", bulk, format="json").status_code == 202
    assert removals_used(client) == 1 + 2 * 2
