"""Uploads cannot script: the type is decided from the bytes (HTML, SVG and unknown bytes are
refused on every upload path), files are stored under a name the server chooses, and stored
files are served so that a browser never runs them as a page of our origin."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from processing.jobs import services
from processing.jobs.models import Job
from processing.lib.media import media_url
from tests.support.clients import client_for
from tests.support.photos import image_bytes as png_bytes
from vendors import services as vendor_services
from vendors.models import Record

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>fetch('/api/v1/jobs/')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
SCRIPTS = [("x.html", HTML, "text/html"), ("x.svg", SVG, "image/svg+xml"), ("x.png", HTML, "image/png")]


def file(name, data, content_type):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize("name, data, content_type", SCRIPTS)
def test_the_api_refuses_a_script_upload_on_every_path(owner, vendor, name, data, content_type):
    client = client_for(owner)
    project = vendor_services.project_create(vendor=vendor, name="Shoes")

    single = client.post("/api/v1/jobs/", {"kind": "transform", "image": file(name, data, content_type)})
    bulk = client.post("/api/v1/jobs/bulk/", {"kind": "transform", "images": [file(name, data, content_type)]})
    record = client.post(f"/api/v1/projects/{project.pk}/records/", {"image": file(name, data, content_type)})

    for response in (single, bulk, record):
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "unsupported_image"
        assert response.json()["field"] == "image"
    assert Record.objects.count() == 0 and Job.objects.count() == 0


@pytest.mark.parametrize("name, data, content_type", SCRIPTS)
def test_the_portal_refuses_a_script_upload(browser_for, owner, vendor, name, data, content_type):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    browser = browser_for(owner)

    response = browser.post(f"/projects/{project.pk}/upload/", {"image": file(name, data, content_type)})

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_image"
    assert Record.objects.count() == 0


def test_an_image_is_stored_under_a_server_chosen_name_and_its_real_type(owner, vendor):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")

    uploaded = client_for(owner).post(
        f"/api/v1/projects/{project.pk}/records/", {"image": file("page.html", png_bytes(), "text/html")}
    )

    assert uploaded.status_code == 201, uploaded.content
    record = Record.objects.get()
    assert record.original_filename == "page.html"  # shown, never used to store or serve
    assert record.content_type == "image/png"
    assert record.original.name.endswith("/original.png") and "page" not in record.original.name


def test_a_stored_image_is_served_inline_with_nosniff_and_a_sandboxing_csp(vendor, client):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    record = vendor_services.record_create(project=project, upload=file("a.png", png_bytes(), "image/png"))

    response = client.get(media_url(record.original.name))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"


@pytest.mark.parametrize("name, data", [("originals/1/legacy/x.html", HTML), ("originals/1/legacy/x.svg", SVG)])
def test_a_stored_file_that_is_not_our_raster_type_is_only_ever_a_download(client, name, data):
    stored = default_storage.save(name, ContentFile(data))  # e.g. uploaded before this check existed

    response = client.get(media_url(stored))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    default_storage.delete(stored)


def test_portal_downloads_are_attachments_with_nosniff_and_csp(browser_for, owner, vendor):
    project = vendor_services.project_create(vendor=vendor, name="Shoes")
    record = vendor_services.record_create(project=project, upload=file("a.png", png_bytes(), "image/png"))
    job = services.job_create(vendor=vendor, kind="transform", record=record)
    name = default_storage.save(f"results/{job.pk}.png", ContentFile(png_bytes()))
    Job.objects.filter(pk=job.pk).update(state="succeeded", result={"name": name, "content_type": "image/png"})
    browser = browser_for(owner)

    response = browser.get(f"/jobs/{job.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    default_storage.delete(name)
