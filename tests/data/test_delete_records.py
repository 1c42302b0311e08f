"""Deleting a record: through the API (owner and member; another vendor and anonymous callers
cannot), the portal and the admin, each through one service. Its files leave the storage (the
local file system, listed for real; Cloudinary through the stand-in), its waiting job is
cancelled, its finished job stays only as a row without result, its bytes go back to the storage
quota, and the audit trail says who did it. Deleting twice answers 404."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import image_upload, make_job, make_record, succeed_job
from tests.support.clients import client_for
from tests.support.cloudinary import fake_cloudinary
from tests.support.media import record_files, stored_files
from tests.support.processors import tiny_png
from tests.support.storage import unwritable
from vendors.models import AuditEvent, Record, StorageDeletion, Vendor
from vendors.thumbnails import record_thumbnail_make

pytestmark = pytest.mark.django_db(transaction=True)


def storage_bytes(vendor) -> int:
    return Vendor.objects.values_list("storage_bytes", flat=True).get(pk=vendor.pk)


def assert_gone_with_its_files(record, finished, waiting, names):
    assert not Record.objects.filter(pk=record.pk).exists()
    assert not names & stored_files(), "original, result and previews are gone from storage"
    assert not stored_files(f"thumbnails/{record.vendor_id}/{record.pk}"), "no preview is left"
    assert Job.objects.get(pk=waiting.pk).state == "cancelled"
    kept = Job.objects.get(pk=finished.pk)
    assert (kept.state, kept.record_id, kept.result) == ("succeeded", None, None), "a count, nothing more"
    assert not StorageDeletion.objects.exists(), "the journal was drained"


@pytest.mark.parametrize("who", ["owner", "member"])
def test_a_vendor_deletes_a_record_with_everything_it_stored(request, who, vendor, stored_record):
    user = request.getfixturevalue(who)
    record, finished, waiting = stored_record
    names = record_files(record)
    assert len(names) == 4 and names <= stored_files()
    assert storage_bytes(vendor) == record.size_bytes

    response = client_for(user).delete(f"/api/v1/records/{record.pk}/")

    assert response.status_code == 204, response.content
    assert_gone_with_its_files(record, finished, waiting, names)
    assert storage_bytes(vendor) == 0, "its bytes are back in the storage quota"
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_kind, event.actor_name, event.vendor_slug, event.count) == (
        "records.deleted",
        "vendor_user",
        user.username,
        "acme",
        1,
    )
    assert str(record.pk) in event.target

    again = client_for(user).delete(f"/api/v1/records/{record.pk}/")
    assert again.status_code == 404 and again["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.count() == 1


def test_a_vendor_at_its_storage_quota_frees_room_by_deleting(vendor, owner):
    records = [make_record(vendor) for _ in range(2)]
    Vendor.objects.filter(pk=vendor.pk).update(limit_overrides={"storage_bytes_limit": storage_bytes(vendor)})  # full
    client = client_for(owner)
    project = records[0].project_id
    upload = client.post(f"/api/v1/projects/{project}/records/", {"image": image_upload("photo.png")})
    assert upload.status_code == 413
    assert client.delete(f"/api/v1/records/{records[0].pk}/").status_code == 204
    upload = client.post(f"/api/v1/projects/{project}/records/", {"image": image_upload("photo.png")})
    assert upload.status_code == 201, upload.content


def test_another_vendor_and_anonymous_callers_cannot_delete(vendor, outsider, api, stored_record):
    record, _, _ = stored_record
    names = record_files(record)
    refused = client_for(outsider).delete(f"/api/v1/records/{record.pk}/")
    assert refused.status_code == 404, "another vendor's record is simply not found"
    anonymous = api.delete(f"/api/v1/records/{record.pk}/")
    assert anonymous.status_code == 401
    assert Record.objects.filter(pk=record.pk).exists() and names <= stored_files()
    assert not AuditEvent.objects.exists()


def test_a_running_jobs_result_is_refused_once_its_record_is_deleted(vendor):
    """The run stores its file and applies it after the delete: nothing is applied, the file goes."""
    record = make_record(vendor)
    job = services.job_create(vendor=vendor, kind="isolated", params={}, record=record)
    running = services.job_start(job_id=job.pk)

    services.records_delete(vendor=vendor, record_ids=[record.pk])
    assert not services.job_succeed(job=running, run_token=running.run_token, output=tiny_png())

    assert not [name for name in stored_files("results") if f"/{job.pk}/" in name], "no result file is left"
    assert Job.objects.get(pk=job.pk).state == "cancelled"
    assert not Record.objects.filter(pk=record.pk).exists()


def test_the_apply_refuses_a_record_gone_even_if_its_job_was_not_cancelled(vendor):
    """A record removed some other way (a cascade) while its job ran: the result is not applied."""
    record = make_record(vendor)
    job = services.job_create(vendor=vendor, kind="isolated", params={}, record=record)
    running = services.job_start(job_id=job.pk)
    Record.objects.filter(pk=record.pk).delete()

    assert not services.job_succeed(job=running, run_token=running.run_token, output=tiny_png())
    assert Job.objects.get(pk=job.pk).result is None
    assert not [name for name in stored_files("results") if f"/{job.pk}/" in name]


def test_files_the_storage_would_not_remove_stay_in_the_journal_until_it_does(vendor, stored_record):
    record, finished, waiting = stored_record
    names = record_files(record)
    previews = (record.original_thumbnail.name, record.processed_thumbnail.name)
    with unwritable([Path(settings.MEDIA_ROOT, name).parent for name in previews]):
        services.records_delete(vendor=vendor, record_ids=[record.pk])
        left = set(StorageDeletion.objects.values_list("name", flat=True))
        assert left == {record.original_thumbnail.name, record.processed_thumbnail.name}
        assert StorageDeletion.objects.filter(attempts=1).count() == 2
    assert not Record.objects.filter(pk=record.pk).exists(), "the rows went at once"
    report = services.jobs_purge_finished(now=timezone.now() + timedelta(hours=1))
    assert report.files >= 2
    assert not names & stored_files() and not StorageDeletion.objects.exists()


def test_a_record_on_cloudinary_leaves_nothing_there(vendor, owner, settings):
    with fake_cloudinary() as (cloud, url, _):
        settings.CLOUDINARY_URL = url
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "processing.lib.cloudinary_storage.CloudinaryStorage"},
        }
        record = succeed_job(make_job(vendor, kind="sleepy")).record
        record_thumbnail_make(record_id=record.pk, which="original")
        record_thumbnail_make(record_id=record.pk, which="processed")
        assert len(cloud.assets) == 4, cloud.assets

        assert client_for(owner).delete(f"/api/v1/records/{record.pk}/").status_code == 204

        assert cloud.assets == {}, "original, result and previews destroyed on Cloudinary"
        assert {call["action"] for call in cloud.calls} >= {"destroy"}
    assert not StorageDeletion.objects.exists()
    assert default_storage  # the local storage is back for the next tests


def test_a_record_on_s3_leaves_nothing_in_the_bucket(vendor, owner, outsider, s3_storage, s3_server):
    """On a real S3 API (SeaweedFS on loopback): the original, the result and both previews are
    objects of the bucket, and after the delete the bucket, listed through the S3 API, holds
    none of them; another vendor's object stays."""
    other = make_record(outsider.memberships.get().vendor, "theirs.png")
    record = succeed_job(make_job(vendor, kind="sleepy")).record
    record_thumbnail_make(record_id=record.pk, which="original")
    record_thumbnail_make(record_id=record.pk, which="processed")
    record.refresh_from_db()
    names = {
        record.original.name,
        record.processed.name,
        record.original_thumbnail.name,
        record.processed_thumbnail.name,
    }
    assert names <= set(s3_server.keys(s3_storage.bucket_name)) and len(names) == 4

    assert client_for(outsider).delete(f"/api/v1/records/{record.pk}/").status_code == 404
    assert client_for(owner).delete(f"/api/v1/records/{record.pk}/").status_code == 204

    assert set(s3_server.keys(s3_storage.bucket_name)) == {other.original.name}, "only the other vendor's photo"
    assert not StorageDeletion.objects.exists(), "nothing left waiting in the journal"
    assert client_for(owner).delete(f"/api/v1/records/{record.pk}/").status_code == 404, "twice: nothing there"
