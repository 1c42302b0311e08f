"""Upload, start, cancel, retry, downloads and the quota refusal, through the portal's views."""

import io
import zipfile

import pytest
from django.urls import reverse

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import fail_job, image_upload, succeed_job
from vendors.models import Record
from vendors.quotas import quota_usage

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def test_an_upload_creates_a_record_and_answers_with_its_card(browser_for, owner, project):
    response = browser_for(owner).post(
        reverse("portal:record-upload", args=[project.pk]), {"image": image_upload("shoe.png")}, **JSON
    )
    assert response.status_code == 201
    record = Record.objects.get(pk=response.json()["record"])
    assert record.project == project and record.original_filename == "shoe.png"
    assert f'data-record-id="{record.pk}"' in response.json()["html"]


def test_an_empty_upload_is_refused_with_a_sentence(browser_for, owner, project):
    response = browser_for(owner).post(reverse("portal:record-upload", args=[project.pk]), {}, **JSON)
    assert response.status_code == 400
    assert response.json()["detail"] == "Choose an image file to upload."


def test_start_queues_the_selected_records_at_once(browser_for, member, project, records):
    response = browser_for(member).post(
        reverse("portal:jobs-start", args=[project.pk]),
        {"kind": "transform", "records": [records[0].pk, records[2].pk], "p-transform-width": "4"},
        **JSON,
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["message"] == "2 images queued"
    jobs = Job.objects.filter(batch_id=body["batch"]["id"])
    assert {j.record_id for j in jobs} == {records[0].pk, records[2].pk}
    assert all(j.state == "queued" and j.run_params["width"] == 4 for j in jobs)


def test_start_with_all_selected_covers_the_whole_project(browser_for, owner, project, records):
    response = browser_for(owner).post(
        reverse("portal:jobs-start", args=[project.pk]), {"kind": "transform", "all_records": "on"}, **JSON
    )
    assert response.json()["batch"]["total"] == 3


def test_bad_options_are_refused_with_the_field_named(browser_for, owner, project, records):
    response = browser_for(owner).post(
        reverse("portal:jobs-start", args=[project.pk]),
        {"kind": "transform", "records": [records[0].pk], "p-transform-mode": "fill"},
        **JSON,
    )
    assert response.status_code == 400
    assert "width" in response.json()["detail"]
    assert not Job.objects.exists()


def test_a_quota_refusal_is_a_sentence_with_the_reset_time(browser_for, owner, vendor, project, records):
    vendor.limit_overrides = {"remove_bg_limit": 2}
    vendor.save()
    web = browser_for(owner)
    url = reverse("portal:jobs-start", args=[project.pk])
    response = web.post(url, {"kind": "remove_bg", "all_records": "on"}, **JSON)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    error = response.json()
    assert error["code"] == "rate_limited" and error["type"] == "/api/problems/rate_limited"
    assert "2 background removals" in error["detail"] and "resets at" in error["detail"]
    assert not Job.objects.exists()

    # Without script the same refusal comes back as a message on the page, not an error page.
    page = web.post(url, {"kind": "remove_bg", "all_records": "on"}, follow=True)
    assert page.status_code == 200
    assert "resets at" in page.content.decode()


def test_batch_status_counts_and_reasons(browser_for, owner, vendor, records):
    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records)
    jobs = list(batch.jobs.order_by("created_at"))
    succeed_job(jobs[0])
    fail_job(jobs[1], "no face in this photo")
    status = browser_for(owner).get(reverse("portal:batch-status", args=[batch.pk])).json()
    assert (status["total"], status["succeeded"], status["failed"], status["done"]) == (3, 1, 1, False)
    assert status["failure_reasons"] == ["no face in this photo"]
    succeed_job(jobs[2])
    assert browser_for(owner).get(reverse("portal:batch-status", args=[batch.pk])).json()["done"] is True


def test_batch_status_reads_only_the_jobs_the_grid_can_show(
    browser_for, owner, vendor, records, monkeypatch, django_assert_max_num_queries
):
    from processing.portal import snapshots

    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records)
    for job in batch.jobs.all():
        fail_job(job, "no face in this photo")
    monkeypatch.setattr(snapshots, "GRID_LIMIT", 2)
    web = browser_for(owner)
    url = reverse("portal:batch-status", args=[batch.pk])
    web.get(url)  # the session and the vendor, read once
    with django_assert_max_num_queries(8):  # however many jobs the batch has
        status = web.get(url).json()
    newest_two = sorted(records, key=lambda record: record.created_at)[1:]
    assert {job["record"] for job in status["jobs"]} == {record.pk for record in newest_two}
    assert (status["total"], status["failed"], status["failure_reasons"]) == (3, 3, ["no face in this photo"])


def test_a_batch_downloads_as_a_zip_of_its_results(browser_for, owner, vendor, records):
    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records)
    for job in batch.jobs.all():
        succeed_job(job)
    response = browser_for(owner).get(reverse("portal:batch-download", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["p0-transform.png", "p1-transform.png", "p2-transform.png"]
    assert archive.read("p0-transform.png").startswith(b"\x89PNG")


def test_one_result_downloads_as_an_attachment(browser_for, owner, vendor, records):
    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records[:1])
    job = batch.jobs.get()
    succeed_job(job)
    response = browser_for(owner).get(reverse("portal:job-download", args=[job.pk]))
    assert response.status_code == 200
    assert 'filename="p0-transform.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_jobs_page_filters_by_state_and_kind(browser_for, owner, vendor, records):
    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records)
    failed, *_ = batch.jobs.all()
    fail_job(failed)
    web = browser_for(owner)
    page = web.get(reverse("portal:jobs"), {"state": "failed"}).content.decode()
    assert page.count('data-job-id="') == 1 and str(failed.pk) in page
    assert web.get(reverse("portal:jobs"), {"kind": "remove_bg"}).content.decode().count('data-job-id="') == 0


def test_cancel_then_retry_from_the_jobs_page(browser_for, owner, vendor, records):
    job = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records[:1]).jobs.get()
    web = browser_for(owner)
    web.post(reverse("portal:job-cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "cancelled"
    web.post(reverse("portal:job-retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "queued"
    page = web.post(reverse("portal:job-retry", args=[job.pk]), follow=True).content.decode()
    assert "Only failed or cancelled jobs can be retried" in page


def test_retry_failed_requeues_only_the_failed_jobs_of_a_batch(browser_for, owner, vendor, records):
    batch = services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records[:2])
    ok, bad = batch.jobs.order_by("created_at")
    succeed_job(ok)
    fail_job(bad)
    browser_for(owner).post(reverse("portal:batch-retry", args=[batch.pk]))
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.state, bad.state) == ("succeeded", "queued")


def test_the_dashboard_meters_each_quota_with_its_reset_time(browser_for, owner, project, records):
    web = browser_for(owner)
    web.post(reverse("portal:jobs-start", args=[project.pk]), {"kind": "remove_bg", "all_records": "on"}, **JSON)
    page = web.get("/").content.decode()
    assert "Background removals" in page and "3 / 30" in page
    assert "Bulk operations" in page and "1 / 10" in page
    assert "resets at" in page


def test_retries_count_against_quotas_like_new_jobs(browser_for, owner, vendor, records):
    """As through the API: a retried background removal uses up one more."""
    vendor.limit_overrides = {"remove_bg_limit": 2}
    vendor.save()
    batch = services.batch_create(vendor=vendor, kind="remove_bg", records=records[:2])
    for job in batch.jobs.all():
        fail_job(job)
    web = browser_for(owner)
    web.post(reverse("portal:batch-retry", args=[batch.pk]))
    assert batch.jobs.filter(state="queued").count() == 2
    [usage] = [u for u in quota_usage(vendor=vendor) if u.name == "remove_bg"]
    assert usage.used == 2

    first = batch.jobs.first()
    fail_job(first)
    page = web.post(reverse("portal:job-retry", args=[first.pk]), follow=True).content.decode()
    first.refresh_from_db()
    assert first.state == "failed", "no background removal left: the retry is refused"
    assert "resets at" in page
