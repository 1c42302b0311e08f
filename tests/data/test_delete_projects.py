"""Deleting a project: only its vendor's owners may; it answers 202 with a status URL at once and
a real worker deletes its records in batches (10,000 here), each as a record's delete does. And a
record deleted while a real worker runs its job: the job stops, its result never lands."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.clients import client_for
from tests.support.media import record_files, stored_files
from tests.support.waiting import wait_for
from vendors import services as vendor_services
from vendors.models import AuditEvent, Project, ProjectDeletion, Record, StorageDeletion, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(vendor):
    project = vendor_services.project_create(vendor=vendor, name="Spring catalogue")
    for name in ("a.png", "b.png", "c.png"):
        make_record(vendor, name, project=project)
    return project


def test_an_owner_deletes_a_project_in_the_background_and_follows_it(vendor, owner, project):
    names = {name for record in project.records.all() for name in record_files(record)}
    client = client_for(owner)

    response = client.delete(f"/api/v1/projects/{project.pk}/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status_url"].endswith(f"/api/v1/project-deletions/{body['id']}/")
    assert response["Location"] == body["status_url"]
    assert (body["project"], body["state"], body["total"], body["deleted"]) == (project.pk, "running", 3, 0)
    # Gone for every read at once, before its records are.
    assert client.get(f"/api/v1/projects/{project.pk}/").status_code == 404
    assert client.get(f"/api/v1/projects/{project.pk}/records/").status_code == 404
    assert project.pk not in [p["id"] for p in client.get("/api/v1/projects/").json()["results"]]
    assert client.delete(f"/api/v1/projects/{project.pk}/").status_code == 404, "deleting twice: 404"

    services.project_deletion_run(deletion_id=body["id"])  # what the worker runs

    status = client.get(body["status_url"])
    assert status.status_code == 200
    assert (status.json()["state"], status.json()["deleted"]) == ("done", 3)
    assert status.json()["finished_at"]
    assert not Project.objects.filter(pk=project.pk).exists() and not Record.objects.filter(vendor=vendor).exists()
    assert not names & stored_files()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_name, event.count) == ("project.deleted", "acme-owner", 3)


def test_members_outsiders_and_anonymous_callers_cannot_delete_a_project(vendor, member, outsider, api, project):
    refused = client_for(member).delete(f"/api/v1/projects/{project.pk}/")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert client_for(outsider).delete(f"/api/v1/projects/{project.pk}/").status_code == 404
    assert api.delete(f"/api/v1/projects/{project.pk}/").status_code == 401
    assert Project.objects.get(pk=project.pk).deletion_requested_at is None
    assert Record.objects.filter(project=project).count() == 3
    assert not ProjectDeletion.objects.exists()


def test_another_vendor_cannot_follow_a_deletion(vendor, owner, outsider, api, project):
    status_url = client_for(owner).delete(f"/api/v1/projects/{project.pk}/").json()["status_url"]
    assert client_for(outsider).get(status_url).status_code == 404
    assert api.get(status_url).status_code == 401
    assert client_for(owner).get("/api/v1/project-deletions/not-a-uuid/").status_code == 404


RECORDS = 10_000


def ten_thousand_records(vendor, project) -> list[str]:
    """Rows in bulk, each with its own original file in the local storage."""
    folder = Path(settings.MEDIA_ROOT) / "originals" / str(vendor.pk) / "bulk"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"originals/{vendor.pk}/bulk/{index}.png" for index in range(RECORDS)]
    for name in names:
        Path(default_storage.path(name)).write_bytes(b"0123456789")
    Record.objects.bulk_create(
        [Record(vendor=vendor, project=project, original=name, size_bytes=10) for name in names], batch_size=1000
    )
    Vendor.objects.filter(pk=vendor.pk).update(storage_bytes=10 * RECORDS)
    return names


@pytest.mark.e2e
def test_a_project_of_ten_thousand_records_is_deleted_by_a_worker_with_progress(worker, vendor, owner):
    project = vendor_services.project_create(vendor=vendor, name="Archive")
    names = ten_thousand_records(vendor, project)
    client = client_for(owner)

    response = client.delete(f"/api/v1/projects/{project.pk}/")
    assert response.status_code == 202
    seen = set()

    def done():
        body = client.get(response["Location"]).json()
        seen.add(body["deleted"])
        return body if body["state"] == "done" else None

    body = wait_for(done, timeout=240, interval=0.2, what="the project's deletion")
    assert (body["total"], body["deleted"]) == (RECORDS, RECORDS)
    assert len(seen - {0, RECORDS}) >= 1, f"progress was reported on the way ({sorted(seen)})"
    assert not set(names) & stored_files(f"originals/{vendor.pk}")
    assert not Record.objects.filter(vendor=vendor).exists() and not Project.objects.filter(pk=project.pk).exists()
    assert Vendor.objects.get(pk=vendor.pk).storage_bytes == 0
    assert not StorageDeletion.objects.exists()


@pytest.mark.e2e
def test_a_running_jobs_result_is_dropped_when_its_record_is_deleted(worker, vendor, owner):
    record = make_record(vendor)
    job = services.job_create(vendor=vendor, kind="sleepy", params={"seconds": 3, "steps": 1}, record=record)
    wait_for(lambda: Job.objects.filter(pk=job.pk, state="running").exists(), timeout=60, what="the job to run")

    assert client_for(owner).delete(f"/api/v1/records/{record.pk}/").status_code == 204

    # Stopped at its next progress report, or refused as it applied its result: dropped either way.
    wait_for(
        lambda: re.search(f"job {job.pk} (cancelled while running|was cancelled .* as it finished)", worker.output()),
        timeout=30,
        what="the worker to drop the run",
    )
    assert Job.objects.get(pk=job.pk).state == "cancelled"
    assert not [name for name in stored_files("results") if f"/{job.pk}/" in name], "no result was written"
    assert not Record.objects.filter(pk=record.pk).exists()
