"""What each endpoint answers, as an integrator reads it."""

import uuid

import pytest

from processing.jobs import services
from processing.jobs.models import Batch, Job
from tests.factories import image_upload
from tests.support.clients import client_for
from vendors.models import Record

pytestmark = pytest.mark.django_db


def test_a_job_from_an_image_url_waits_for_the_worker_to_fetch_it(owner):
    response = client_for(owner).post(
        "/api/v1/jobs/", {"kind": "transform", "image_url": "https://images.example.com/shoe.jpg"}, format="json"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.input_url == "https://images.example.com/shoe.jpg" and job.record is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "not a url", "ftp://example.com/a.jpg"])
def test_an_image_url_that_is_not_http_is_refused(owner, url):
    response = client_for(owner).post("/api/v1/jobs/", {"kind": "transform", "image_url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "image_url"


def test_two_inputs_at_once_are_refused(owner, acme_objects):
    response = client_for(owner).post(
        "/api/v1/jobs/",
        {"kind": "transform", "record": acme_objects["record"].pk, "image_url": "https://example.com/a.jpg"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_same_idempotency_key_returns_the_first_job(owner):
    client = client_for(owner)
    body = {"kind": "transform", "image_url": "https://example.com/a.jpg"}
    first = client.post("/api/v1/jobs/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = client.post("/api/v1/jobs/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1


def test_bulk_from_image_urls_answers_the_batch_the_jobs_and_the_count(owner):
    urls = [f"https://example.com/{n}.jpg" for n in range(5)]
    response = client_for(owner).post(
        "/api/v1/jobs/bulk/", {"kind": "transform", "image_urls": urls, "priority": "low"}, format="json"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["count"] == 5 and len(body["jobs"]) == 5
    assert "estimated_seconds" in body
    jobs = Job.objects.filter(batch_id=body["batch"])
    assert sorted(jobs.values_list("input_url", flat=True)) == sorted(urls)
    assert {str(pk) for pk in jobs.values_list("pk", flat=True)} == set(body["jobs"])


def test_bulk_of_uploaded_images_stores_each_as_a_record(owner):
    response = client_for(owner).post(
        "/api/v1/jobs/bulk/",
        {"kind": "face_crop", "images": [image_upload("a.jpg"), image_upload("b.jpg"), image_upload("c.jpg")]},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["count"] == 3
    assert sorted(Record.objects.values_list("original_filename", flat=True)) == ["a.jpg", "b.jpg", "c.jpg"]


def test_bulk_of_records_refuses_an_unknown_record_and_starts_nothing(owner, acme_objects):
    jobs_before = Job.objects.count()
    response = client_for(owner).post(
        "/api/v1/jobs/bulk/", {"kind": "transform", "records": [acme_objects["record"].pk, 999999]}, format="json"
    )
    assert response.status_code == 404
    assert Job.objects.count() == jobs_before


@pytest.mark.parametrize(
    "payload",
    [{"kind": "transform"}, {"kind": "transform", "records": []}, {"kind": "transform", "records": "1,2"}],
)
def test_bulk_without_a_list_is_a_400(owner, payload):
    response = client_for(owner).post("/api/v1/jobs/bulk/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "records"


def test_batch_progress_counts_states_and_percent(owner, vendor):
    batch = services.batch_create(
        vendor=vendor, kind="transform", image_urls=[f"https://example.com/{n}.jpg" for n in range(4)]
    )
    first, second, *_ = Job.objects.filter(batch=batch)
    services.job_cancel(job=first)
    Job.objects.filter(pk=second.pk).update(state="running")
    client = client_for(owner)
    body = client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert (body["total"], body["queued"], body["running"], body["cancelled"]) == (4, 2, 1, 1)
    assert body["percent"] == 25.0
    assert body["eta_s"] is None  # nothing has been processed yet to measure a rate from

    cancelled = client.post(f"/api/v1/batches/{batch.pk}/cancel/").json()
    assert cancelled["cancelled"] == 3
    assert cancelled["batch"]["cancelled"] == 4 and cancelled["batch"]["percent"] == 100.0
    assert Batch.objects.get(pk=batch.pk).finished_at is not None


def listed(client, url, query=None) -> int:
    """How many jobs one page lists (each list here fits in one page)."""
    body = client.get(url, query or {}).json()
    assert body["next"] is None
    return len(body["results"])


def test_the_job_list_filters_and_paginates(owner, vendor, acme_objects):
    client = client_for(owner)
    for n in range(3):
        services.job_create(vendor=vendor, kind="face_crop", image_url=f"https://example.com/{n}.jpg")
    assert listed(client, "/api/v1/jobs/") == 5
    assert listed(client, "/api/v1/jobs/", {"kind": "face_crop"}) == 3
    assert listed(client, "/api/v1/jobs/", {"batch": acme_objects["batch"].pk}) == 1
    assert listed(client, "/api/v1/jobs/", {"project": acme_objects["project"].pk}) == 2
    assert listed(client, "/api/v1/jobs/", {"state": "cancelled"}) == 0
    second = client.get(client.get("/api/v1/jobs/", {"page_size": 2}).json()["next"]).json()
    assert len(second["results"]) == 2 and second["next"] and second["previous"]
    assert listed(client, "/api/v1/jobs/", {"created_after": "2999-01-01T00:00:00Z"}) == 0
    assert client.get("/api/v1/jobs/", {"colour": "blue"}).status_code == 200  # unknown filters are ignored


@pytest.mark.parametrize(
    "query, field",
    [
        ({"state": "exploded"}, "state"),
        ({"record": "abc"}, "record"),
        ({"record": str(10**30)}, "record"),
        ({"batch": "not-a-uuid"}, "batch"),
        ({"created_after": "yesterday"}, "created_after"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(owner, query, field):
    response = client_for(owner).get("/api/v1/jobs/", query)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_cancel_then_retry_and_conflicts_are_409(owner, acme_objects):
    client = client_for(owner)
    url = f"/api/v1/jobs/{acme_objects['job'].pk}"
    assert client.post(f"{url}/retry/").status_code == 409  # still queued
    assert client.post(f"{url}/cancel/").json()["state"] == "cancelled"
    conflict = client.post(f"{url}/cancel/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "invalid_state"
    assert client.post(f"{url}/retry/").json()["state"] == "queued"


def test_projects_and_record_upload(owner):
    client = client_for(owner)
    project = client.post("/api/v1/projects/", {"name": "Summer"}, format="json")
    assert project.status_code == 201
    duplicate = client.post("/api/v1/projects/", {"name": "Summer"}, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate" and duplicate.json()["field"] == "name"
    assert [p["name"] for p in client.get("/api/v1/projects/").json()["results"]] == ["Summer"]

    url = f"/api/v1/projects/{project.json()['id']}/records/"
    photo = image_upload("dress.jpg")
    uploaded = client.post(url, {"image": photo}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    record = client.get(f"/api/v1/records/{uploaded.json()['id']}/").json()
    assert record["original_filename"] == "dress.jpg"
    assert record["size_bytes"] == photo.size
    assert record["original_url"].startswith("http://testserver/media/originals/")
    assert record["processed_url"] is None and record["created_at"]
    assert client.get(url).json()["count"] == 1


def test_queue_stats_show_totals_and_the_vendors_own_counts(owner, outsider, vendor):
    from vendors.models import Vendor

    services.job_create(vendor=vendor, kind="transform", image_url="https://example.com/a.jpg")
    other = Vendor.objects.get(slug="globex")
    services.job_create(vendor=other, kind="transform", image_url="https://example.com/b.jpg")
    rows = {row["kind"]: row for row in client_for(owner).get("/api/v1/queue/stats/").json()}
    transform = rows["transform"]
    assert transform["total"] == 2 and transform["vendor"]["total"] == 1
    assert {"waiting", "active", "delayed", "completed", "failed"} <= set(transform)


def test_quota_lists_each_limit_with_use_and_reset(owner):
    client = client_for(owner)
    client.post("/api/v1/jobs/", {"kind": "remove_bg", "image_url": "https://example.com/a.jpg"}, format="json")
    body = client.get("/api/v1/quota/").json()
    assert body["plan"] == "standard"
    limits = {row["name"]: row for row in body["limits"]}
    assert (limits["remove_bg"]["limit"], limits["remove_bg"]["used"], limits["remove_bg"]["remaining"]) == (30, 1, 29)
    assert limits["image_requests"]["limit"] == 50 and limits["bulk"]["limit"] == 10
    assert all(row["reset_at"] for row in body["limits"])


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"kind": "transform", ', "application/json"),
        (b"kind=transform", "text/plain"),
        (b'["a list"]', "application/json"),
        (b'{"kind": "transform", "record": 1e400}', "application/json"),
        (b'{"kind": "transform", "record": 99999999999999999999999}', "application/json"),
        (b'{"kind": 7, "params": [1]}', "application/json"),
    ],
)
def test_malformed_requests_get_a_json_4xx_never_a_500(owner, body, content_type):
    response = client_for(owner).generic("POST", "/api/v1/jobs/", body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/jobs/not-a-uuid/", "/api/v1/batches/123/", "/api/v1/records/abc/", f"/api/v1/records/{10**30}/"],
)
def test_malformed_ids_are_json_404s(owner, url):
    response = client_for(owner).get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_uuid_is_a_404(owner):
    assert client_for(owner).get(f"/api/v1/jobs/{uuid.uuid4()}/").status_code == 404


def test_more_files_than_django_accepts_is_a_json_400(owner, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    images = [image_upload(f"{n}.jpg") for n in range(3)]
    response = client_for(owner).post("/api/v1/jobs/bulk/", {"kind": "transform", "images": images}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
