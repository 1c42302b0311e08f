"""Exports: an owner asks for a ZIP of a project or of all its data; a real worker builds it into
storage (never in memory); the vendor's people download it through a private link until it
expires, and the retention run then removes it from storage."""

import csv
import io
import json
import os
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from processing.jobs import services
from processing.jobs.services import exports as export_service
from tests.factories import make_job, make_record, succeed_job
from tests.support.clients import client_for
from tests.support.media import stored_files
from tests.support.waiting import wait_for
from vendors import services as vendor_services
from vendors.models import AuditEvent, Export, Record

pytestmark = pytest.mark.django_db(transaction=True)


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def download(client, url: str):
    response = client.get(url)
    return response, b"".join(response.streaming_content) if response.status_code == 200 else b""


@pytest.mark.e2e
def test_an_owner_exports_a_project_and_its_people_download_what_is_stored(
    worker, vendor, owner, member, outsider, api
):
    vendor_services.vendor_set_paused(vendor=vendor, paused=True)  # the worker builds, runs no job
    project = vendor_services.project_create(vendor=vendor, name="Spring catalogue")
    record = make_record(vendor, "shoe.png", project=project)
    finished = succeed_job(services.job_create(vendor=vendor, kind="sleepy", record=record, params={"seconds": 0}))
    other = make_record(vendor, "elsewhere.png")  # another project: not in this export
    client = client_for(owner)

    response = client.post("/api/v1/exports/", {"project": project.pk}, format="json")

    assert response.status_code == 202, response.content
    assert response["Location"] == response.json()["status_url"]
    assert response.json()["state"] == "queued" and response.json()["download_url"] is None
    body = wait_for(
        lambda: (b := client.get(response["Location"]).json())["state"] == "ready" and b,
        timeout=60,
        what="the export to be built",
    )
    assert (body["total"], body["done"], body["scope"], body["project"]) == (2, 2, "project", project.pk)
    expires = timezone.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - timezone.now() - timedelta(hours=settings.EXPORT_TTL_HOURS)) < timedelta(minutes=2)
    stored = Export.objects.get().file
    assert stored in stored_files("exports")
    assert len(stored.split("/")[2]) >= 22, "the export's folder holds 128 random bits"

    owner_response, data = download(client, body["download_url"])
    assert owner_response.status_code == 200 and owner_response["Content-Type"] == "application/octet-stream"
    assert len(data) == body["size_bytes"] == default_storage.size(stored)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    original = f"originals/spring-catalogue/{record.pk}-shoe.png"
    result = [name for name in names if name.startswith("results/")]
    assert original in names and len(result) == 1
    assert archive.read(original) == stored_bytes(record.original.name)
    assert archive.read(result[0]) == stored_bytes(finished.result["name"])
    assert not [name for name in names if "elsewhere" in name]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["project"] == "Spring catalogue"
    [entry] = manifest["records"]
    assert (entry["id"], entry["file"], entry["size_bytes"], entry["content_type"]) == (
        record.pk,
        original,
        record.size_bytes,
        "image/png",
    )
    [job] = manifest["jobs"]
    assert (job["id"], job["kind"], job["state"], job["params"], job["result_file"]) == (
        str(finished.pk),
        "sleepy",
        "succeeded",
        finished.params,
        result[0],
    )
    rows = list(csv.DictReader(io.StringIO(archive.read("records.csv").decode())))
    assert [(row["id"], row["file"], row["size_bytes"]) for row in rows] == [
        (str(record.pk), original, str(record.size_bytes))
    ]
    jobs = list(csv.DictReader(io.StringIO(archive.read("jobs.csv").decode())))
    assert [(row["id"], json.loads(row["params"]), row["state"]) for row in jobs] == [
        (str(finished.pk), finished.params, "succeeded")
    ]

    # A member reads and downloads it; another vendor and an anonymous caller get nothing.
    assert client_for(member).get(body["status_url"]).status_code == 200
    assert download(client_for(member), body["download_url"])[1] == data
    for caller, code in ((client_for(outsider), 404), (api, 401)):
        assert caller.get(body["status_url"]).status_code == code
        assert caller.get(body["download_url"]).status_code == code
    assert Record.objects.filter(pk=other.pk).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name"))
    assert actions[0] == ("export.requested", "acme-owner")
    assert ("export.downloaded", "acme-member") in actions


def test_only_owners_ask_for_exports_of_their_own_projects(vendor, owner, member, outsider, api):
    project = vendor_services.project_create(vendor=vendor, name="Private")
    refused = client_for(member).post("/api/v1/exports/", {"project": project.pk}, format="json")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert client_for(outsider).post("/api/v1/exports/", {"project": project.pk}, format="json").status_code == 404
    assert api.post("/api/v1/exports/", {"project": None}, format="json").status_code == 401
    client = client_for(owner)
    for body in ({}, {"all": True}, {"project": 0}, {"project": "x"}):
        response = client.post("/api/v1/exports/", body, format="json")
        assert response.status_code == 400 and response["Content-Type"] == "application/problem+json", body
    assert not Export.objects.exists() and not AuditEvent.objects.exists()
    services.export_start(vendor=vendor, project=None, actor=owner)  # being built (no worker will take it)
    again = client.post("/api/v1/exports/", {"project": None}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "export_in_progress"
    assert client.get("/api/v1/exports/not-a-uuid/").status_code == 404
    listed = client.get("/api/v1/exports/").json()["results"]
    assert [(row["scope"], row["state"]) for row in listed] == [("all", "queued")]
    assert client_for(outsider).get("/api/v1/exports/").json()["results"] == []


BIG = 3 * export_service.CHUNK + 12345


def big_record(vendor, project, index: int) -> Record:
    """A record whose original is larger than the copy's chunk, written straight to storage."""
    name = f"originals/{vendor.pk}/big/{index}.bin"
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(BIG))
    return Record.objects.create(vendor=vendor, project=project, original=name, original_filename=f"{index}.bin")


def test_an_export_of_all_data_streams_files_larger_than_a_chunk_without_holding_them(vendor, owner):
    first = vendor_services.project_create(vendor=vendor, name="One")
    second = vendor_services.project_create(vendor=vendor, name="Two")
    records = [big_record(vendor, first, 1), big_record(vendor, first, 2), big_record(vendor, second, 3)]
    export = services.export_start(vendor=vendor, project=None, actor=owner)

    tracemalloc.start()
    try:
        built = services.export_build(export_id=export.pk)  # what the worker runs
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert built.state == "ready" and built.size_bytes > 3 * BIG
    assert peak < 3 * export_service.CHUNK, f"peak {peak} bytes for {3 * BIG} bytes of files"
    with default_storage.open(built.file, "rb") as stored, zipfile.ZipFile(stored) as archive:
        for record in records:
            folder = "one" if record.project_id == first.pk else "two"
            assert archive.read(f"originals/{folder}/{record.pk}-{record.original_filename}") == stored_bytes(
                record.original.name
            )
        assert len(json.loads(archive.read("manifest.json"))["records"]) == 3


def test_an_expired_export_is_removed_from_storage_by_the_retention_run(vendor, owner):
    make_job(vendor)
    export = services.export_build(export_id=services.export_start(vendor=vendor, project=None, actor=owner).pk)
    assert export.file in stored_files("exports")
    client = client_for(owner)
    assert client.get(f"/api/v1/exports/{export.pk}/download/").status_code == 200

    services.jobs_purge_finished(now=export.expires_at - timedelta(minutes=1))
    assert export.file in stored_files("exports"), "kept until it expires"
    services.jobs_purge_finished(now=export.expires_at + timedelta(minutes=1))

    assert not stored_files(f"exports/{vendor.pk}"), "the file and its folder are gone"
    body = client.get(f"/api/v1/exports/{export.pk}/").json()
    assert (body["state"], body["download_url"]) == ("expired", None)
    assert client.get(f"/api/v1/exports/{export.pk}/download/").status_code == 404


def test_a_projects_exports_go_with_the_project(vendor, owner):
    project = vendor_services.project_create(vendor=vendor, name="Gone soon")
    make_record(vendor, project=project)
    export = services.export_build(export_id=services.export_start(vendor=vendor, project=project, actor=owner).pk)
    everything = services.export_build(export_id=services.export_start(vendor=vendor, project=None, actor=owner).pk)

    deletion = services.project_delete_start(vendor=vendor, project=project, actor=owner)
    services.project_deletion_run(deletion_id=deletion.pk)

    assert not Export.objects.filter(pk=export.pk).exists()
    assert stored_files(f"exports/{vendor.pk}") == {everything.file}, "an export of all data stays"


def test_the_portal_exports_a_project_and_lists_the_vendors_exports(
    vendor, owner, member, outsider, browser_for, client
):
    project = vendor_services.project_create(vendor=vendor, name="Summer")
    record = make_record(vendor, "hat.png", project=project)
    browser = browser_for(owner)
    assert b'id="export-project"' in browser.get(f"/projects/{project.pk}/").content
    assert b'id="export-all"' in browser.get("/").content

    response = browser.post("/exports/new/", {"project": project.pk})

    assert response.status_code == 302 and response["Location"] == "/exports/"
    export = Export.objects.get()
    assert (export.scope, export.project_id, export.requested_by) == ("project", project.pk, owner)
    listing = browser.get("/exports/")
    assert listing.status_code == 200 and f'data-export="{export.pk}"'.encode() in listing.content
    services.export_build(export_id=export.pk)  # what the worker runs (unless the session's worker took it)
    wait_for(lambda: Export.objects.get(pk=export.pk).state == "ready", timeout=60, what="the export")
    listing = browser.get("/exports/").content.decode()
    download_url = f"/exports/{export.pk}/download/"
    assert 'data-state="ready"' in listing and download_url in listing

    response, data = download(browser, download_url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read(f"originals/summer/{record.pk}-hat.png") == stored_bytes(record.original.name)
    assert download(browser_for(member), download_url)[0].status_code == 200
    assert browser_for(member).post("/exports/new/", {"project": project.pk}).status_code == 403
    assert browser_for(outsider).get(download_url).status_code == 404
    assert browser_for(outsider).post("/exports/new/", {"project": project.pk}).status_code == 404
    anonymous = client.get(download_url)
    assert anonymous.status_code == 302 and f"next={download_url}" in anonymous["Location"].replace("%2F", "/")
    assert Export.objects.count() == 1


def test_a_second_message_never_builds_beside_a_live_build_but_takes_over_a_dead_one(vendor, owner):
    make_record(vendor)
    export = services.export_start(vendor=vendor, project=None, actor=owner)
    Export.objects.filter(pk=export.pk).update(state="running", heartbeat_at=timezone.now())

    assert services.export_build(export_id=export.pk).state == "running", "a live build is left alone"
    assert not stored_files(f"exports/{vendor.pk}")

    silent = timezone.now() - timedelta(seconds=export_service.STALE_AFTER_S + 1)
    Export.objects.filter(pk=export.pk).update(heartbeat_at=silent)
    built = services.export_build(export_id=export.pk)
    assert built.state == "ready" and stored_files(f"exports/{vendor.pk}") == {built.file}
