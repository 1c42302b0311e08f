"""Uploads cost something: each photo stored counts against the vendor's uploads quota on every
path (API single job, bulk, project records; portal), not as a read, and its bytes against a
storage quota (a counter kept at upload and delete, not a SUM per request). Over the storage
quota an upload is refused whole with 413 `storage_quota_exceeded`, nothing stored and its
upload charge given back. Both show beside the other limits: API, portal, admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs.models import Job
from tests.support.clients import client_for
from tests.support.photos import image_bytes
from vendors import services as vendor_services
from vendors.models import Record, Vendor
from vendors.quotas import quota_usage

pytestmark = pytest.mark.django_db

PNG = image_bytes()


def png(name="p.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def overrides(vendor, **limits):
    vendor.limit_overrides = {**vendor.limit_overrides, **limits}
    vendor.save(update_fields=["limit_overrides"])


def used(vendor, name):
    return next(u.used for u in quota_usage(vendor=vendor) if u.name == name)


def stored_bytes(vendor):
    return Vendor.objects.get(pk=vendor.pk).storage_bytes


def test_every_api_upload_path_counts_uploads_not_reads(owner, vendor):
    client = client_for(owner)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")

    assert client.post(f"/api/v1/projects/{project.pk}/records/", {"image": png()}).status_code == 201
    assert client.post("/api/v1/jobs/", {"kind": "transform", "image": png()}).status_code == 202
    bulk = client.post("/api/v1/jobs/bulk/", {"kind": "transform", "images": [png("a.png"), png("b.png")]})
    assert bulk.status_code == 202

    assert used(vendor, "uploads") == 4
    assert used(vendor, "read_requests") == 0
    assert stored_bytes(vendor) == 4 * len(PNG)


def test_an_api_upload_over_the_uploads_quota_is_refused_with_429(owner, vendor):
    overrides(vendor, uploads_limit=2)
    client = client_for(owner)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    codes = [client.post(f"/api/v1/projects/{project.pk}/records/", {"image": png()}).status_code for _ in range(2)]
    refused = client.post("/api/v1/jobs/bulk/", {"kind": "transform", "images": [png(), png()]})
    assert codes == [201, 201]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited" and refused.json()["limit"] == "uploads"
    assert Record.objects.count() == 2 and Job.objects.count() == 0


def test_the_portal_upload_is_charged(browser_for, owner, vendor):
    overrides(vendor, uploads_limit=1)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    browser = browser_for(owner)
    first = browser.post(f"/projects/{project.pk}/upload/", {"image": png()})
    second = browser.post(f"/projects/{project.pk}/upload/", {"image": png()})
    assert first.status_code == 201
    assert second.status_code == 429
    assert second.json()["code"] == "rate_limited" and second.json()["limit"] == "uploads"
    assert Record.objects.count() == 1


def test_an_upload_over_the_storage_quota_is_refused_whole_and_costs_nothing(browser_for, owner, vendor):
    overrides(vendor, storage_bytes_limit=len(PNG) * 2 + 10)
    client = client_for(owner)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    assert client.post(f"/api/v1/projects/{project.pk}/records/", {"image": png()}).status_code == 201

    # A bulk of two needs 2 × the image; one fits, so the whole batch is refused.
    refused = client.post("/api/v1/jobs/bulk/", {"kind": "transform", "images": [png(), png()]})

    assert refused.status_code == 413
    assert refused["Content-Type"].startswith("application/problem+json")
    body = refused.json()
    assert (body["code"], body["status"], body["limit"]) == ("storage_quota_exceeded", 413, "storage_bytes")
    assert Record.objects.count() == 1 and Job.objects.count() == 0
    assert stored_bytes(vendor) == len(PNG)
    assert used(vendor, "uploads") == 1  # the refused bulk's uploads were given back

    browser = browser_for(owner)
    assert browser.post(f"/projects/{project.pk}/upload/", {"image": png()}).status_code == 201
    portal_refused = browser.post(f"/projects/{project.pk}/upload/", {"image": png()})
    assert portal_refused.status_code == 413 and portal_refused.json()["code"] == "storage_quota_exceeded"


def test_storage_shows_beside_the_other_limits_to_each_member_of_the_vendor_only(
    browser_for, owner, member, outsider, vendor
):
    overrides(vendor, storage_bytes_limit=10_000_000)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    vendor_services.record_create(project=project, upload=png())

    for user in (owner, member):
        quota = client_for(user).get("/api/v1/quota/").json()
        assert quota["storage"] == {"used": len(PNG), "limit": 10_000_000, "remaining": 10_000_000 - len(PNG)}
        assert "uploads" in [limit["name"] for limit in quota["limits"]]
        browser = browser_for(user)
        assert "stored" in browser.get("/").content.decode()
    theirs = client_for(outsider).get("/api/v1/quota/").json()
    assert theirs["storage"]["used"] == 0  # the outsider sees its own vendor, never ours


def test_the_admin_shows_storage_with_the_limits(staff, vendor):
    overrides(vendor, storage_bytes_limit=5000)
    page = staff.get(f"/admin/vendors/vendor/{vendor.pk}/change/").content.decode()
    assert 'data-quota="storage_bytes"' in page and "bytes stored" in page
    assert 'data-quota="uploads"' in page
