"""Previews are made by a real worker, off the request path: after an upload commits and after a
result is applied; the portal's job snapshot then points the grid at the result's preview."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from skimage import data as samples

from processing.jobs.models import Job
from processing.jobs.services import job_create
from processing.lib.media import media_url
from processing.portal.snapshots import job_snapshot
from tests.support.photos import decode, jpeg_bytes
from tests.support.waiting import wait_for
from vendors import services
from vendors.models import Record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def read(field) -> bytes:
    with field.open("rb") as file:
        return file.read()


def test_upload_and_result_get_previews_made_by_the_worker(worker, vendor):
    project = services.project_create(vendor=vendor, name="Catalogue")
    photo = jpeg_bytes(samples.chelsea())
    record = services.record_create(
        project=project, upload=SimpleUploadedFile("chelsea.jpg", photo, content_type="image/jpeg")
    )

    record = wait_for(
        lambda: Record.objects.exclude(original_thumbnail="").filter(pk=record.pk).first(),
        timeout=90,
        what="the upload's preview",
    )
    preview = decode(read(record.original_thumbnail))
    assert preview.format == "WEBP" and preview.size == (320, 213)

    job = job_create(vendor=vendor, kind="transform", params={"width": 1000, "format": "png"}, record=record)
    job = wait_for(lambda: Job.objects.filter(pk=job.pk, state="succeeded").first(), timeout=90, what="the job")
    record = wait_for(
        lambda: Record.objects.exclude(processed_thumbnail="").filter(pk=record.pk).first(),
        timeout=90,
        what="the result's preview",
    )
    assert decode(read(record.processed_thumbnail)).size == (320, 213)
    assert job_snapshot(Job.objects.select_related("record").get(pk=job.pk))["thumbnail_url"] == (
        media_url(record.processed_thumbnail.name)
    )


def test_a_result_no_larger_than_a_preview_is_its_own_preview(worker, vendor):
    """No preview job for it: the result's file is the preview from the moment it is applied, and a
    later, larger result gets a preview of its own while the small one stays its job's result."""
    project = services.project_create(vendor=vendor, name="Icons")
    record = services.record_create(
        project=project,
        upload=SimpleUploadedFile("chelsea.jpg", jpeg_bytes(samples.chelsea()), content_type="image/jpeg"),
    )
    small = job_create(vendor=vendor, kind="transform", params={"width": 64, "format": "png"}, record=record)
    small = wait_for(lambda: Job.objects.filter(pk=small.pk, state="succeeded").first(), timeout=90, what="the job")
    record.refresh_from_db()
    assert record.processed.name == small.result["name"]
    assert record.processed_thumbnail.name == record.processed.name  # set with the result, no job
    assert decode(read(record.processed_thumbnail)).size == (64, 43)

    large = job_create(vendor=vendor, kind="transform", params={"width": 1000, "format": "png"}, record=record)
    large = wait_for(lambda: Job.objects.filter(pk=large.pk, state="succeeded").first(), timeout=90, what="the job")
    record = wait_for(
        lambda: Record.objects.filter(pk=record.pk, processed_thumbnail__startswith="thumbnails/").first(),
        timeout=90,
        what="the larger result's preview",
    )
    assert decode(read(record.processed_thumbnail)).size == (320, 213)
    assert record.processed.name == large.result["name"]
    with default_storage.open(small.result["name"], "rb") as kept:  # the small result is still its job's
        assert decode(kept.read()).size == (64, 43)
