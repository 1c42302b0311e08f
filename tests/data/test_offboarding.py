"""Offboarding: an operator removes a vendor and everything it stored (typing its slug to
confirm); a real worker does it in the background. Afterwards the storage, every table with a
vendor key and Redis are listed: nothing of the vendor is left, another vendor is untouched, and
the audit trail keeps what happened."""

import uuid
from pathlib import Path

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models

from processing.api.events.slots import stream_slot_take
from processing.engine import offboarding
from processing.jobs import services
from processing.jobs.models import Job
from processing.jobs.services.transitions import retried_on_deadlock
from processing.webhooks.models import WebhookDelivery, WebhookEndpoint
from processing.webhooks.services import endpoint_create
from tests.factories import make_member, make_record, make_vendor
from tests.support.clients import client_for
from tests.support.media import stored_files, stored_folders
from tests.support.waiting import wait_for
from vendors import services as vendor_services
from vendors.models import (
    ApiToken,
    AuditEvent,
    Export,
    StorageDeletion,
    User,
    Vendor,
    VendorOffboarding,
)
from vendors.thumbnails import record_thumbnail_make

pytestmark = pytest.mark.django_db(transaction=True)

TOPS = ("originals", "results", "thumbnails", "exports")


def vendor_models() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is Vendor
    ]


def rows_of(vendor_id: int) -> dict[str, int]:
    counts = {
        model._meta.label: model.objects.filter(**{f"{field}_id": vendor_id}).count()
        for model, field in vendor_models()
    }
    counts["webhooks.WebhookDelivery"] = WebhookDelivery.objects.filter(endpoint__vendor_id=vendor_id).count()
    counts["vendors.StorageDeletion"] = StorageDeletion.objects.filter(vendor_id=vendor_id).count()
    return counts


def files_of(vendor_id: int) -> set[str]:
    return stored_files(*(f"{top}/{vendor_id}" for top in TOPS))


def redis_traces(client: redis.Redis, vendor: Vendor) -> list[str]:
    """Every Redis key of Darkroom naming the vendor (its uid or its id as a segment, or its slug),
    and every hash field naming it, found by SCAN over the whole database."""
    found = []
    names = {str(vendor.pk), vendor.uid.hex}
    for raw in client.scan_iter(match="darkroom:*", count=1000):
        key = raw.decode()
        if names & set(key.split(":")[2:3]) or vendor.slug in key:
            found.append(key)
        if client.type(raw) == b"hash":
            for field in client.hkeys(raw):
                text = field.decode()
                if text in names or text.endswith(f"|{vendor.slug}"):
                    found.append(f"{key}[{text}]")
    return found


def fill(vendor: Vendor, owner: User) -> None:
    """Data of the vendor in every place: records with their files (original, a worker's result,
    previews), a job on an input URL with a result, a batch, an idempotency key, an export, a
    project deletion, a webhook endpoint with a delivery, API keys, quota counters, a refusal
    count, its place in the fairness order, an event stream's lease."""
    project = vendor_services.project_create(vendor=vendor, name="Catalogue")
    record = make_record(vendor, "a.png", project=project)
    job = services.job_create(vendor=vendor, kind="sleepy", record=record, params={"seconds": 0})
    wait_for(lambda: Job.objects.get(pk=job.pk).state == "succeeded", timeout=60, what="the worker's job")
    record_thumbnail_make(record_id=record.pk, which="original")
    record_thumbnail_make(record_id=record.pk, which="processed")
    batch = services.batch_create(
        vendor=vendor, kind="sleepy", params={"seconds": 0}, records=[make_record(vendor, "b.png")]
    )
    wait_for(lambda: not batch.jobs.exclude(state="succeeded").exists(), timeout=60, what="the batch's job")
    name = f"results/{vendor.pk}/{uuid.uuid4()}/{uuid.uuid4().hex}.png"
    Path(default_storage.path(name)).parent.mkdir(parents=True, exist_ok=True)
    Path(default_storage.path(name)).write_bytes(b"fetched and processed")
    retried_on_deadlock(Job.objects.create)(  # the shared worker admits other jobs meanwhile
        vendor=vendor, kind="sleepy", input_url="https://img.example/x.png", state="succeeded", result={"name": name}
    )
    services.idempotency_key_claim(vendor=vendor, key=f"key-{vendor.slug}", fingerprint="f")
    services.export_build(export_id=services.export_start(vendor=vendor, project=None, actor=owner).pk)
    doomed = vendor_services.project_create(vendor=vendor, name="Doomed")
    services.project_delete_start(vendor=vendor, project=doomed, actor=owner)
    endpoint = endpoint_create(vendor=vendor, url="https://hooks.example.invalid/darkroom")
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="job.succeeded", payload={"job": str(job.pk)}, status_code=200
    )
    vendor_services.vendor_update(
        vendor=vendor, name=vendor.name, plan=vendor.plan, is_active=True, limit_overrides={"read_requests_limit": 2}
    )
    client = client_for(owner)
    while client.get("/api/v1/projects/").status_code != 429:  # quota counters, then a refusal
        pass
    assert stream_slot_take(vendor_uid=vendor.uid.hex)


@pytest.mark.e2e
def test_an_operator_offboards_a_vendor_and_nothing_of_it_is_left(worker, staff, superuser):
    acme, globex = make_vendor("acme"), make_vendor("globex")
    owner = make_member(acme, "acme-owner", role="owner")
    shared = make_member(acme, "shared-member")  # also at globex: keeps the account
    vendor_services.member_add(vendor=globex, user=shared, role="member")
    other_owner = make_member(globex, "globex-owner", role="owner")
    fill(acme, owner)
    fill(globex, other_owner)
    client_for(shared)  # an API key of a user who stays
    r = redis.Redis.from_url(settings.REDIS_URL)
    traces = redis_traces(r, acme)
    for start in (
        f"darkroom:quota:{acme.uid.hex}:",
        "darkroom:quota:refusals[",
        "darkroom:dispatch:served:",
        "darkroom:streams:",
    ):
        assert [trace for trace in traces if trace.startswith(start)], (start, traces)
    before = {"rows": rows_of(globex.pk), "files": files_of(globex.pk), "redis": redis_traces(r, globex)}
    assert files_of(acme.pk) and all(
        rows_of(acme.pk)[label] for label in ("vendors.Record", "processing.Job", "processing.Batch")
    )
    acme_id = acme.pk

    # A wrong slug does nothing.
    action = {"action": "offboard_vendor", "_selected_action": [acme.pk]}
    refused = staff.post("/admin/vendors/vendor/", {**action, "confirm_slug": "globex"})
    assert refused.status_code == 400 and b"not the vendor" in refused.content
    assert Vendor.objects.get(pk=acme.pk).is_active and not VendorOffboarding.objects.exists()
    page = staff.post("/admin/vendors/vendor/", action)
    assert page.status_code == 200 and b"Type the vendor" in page.content

    response = staff.post("/admin/vendors/vendor/", {**action, "confirm_slug": "acme"})

    assert response.status_code == 302
    started = VendorOffboarding.objects.get()
    assert not Vendor.objects.filter(pk=acme_id, is_active=True).exists(), "inactive at once"
    done = wait_for(
        lambda: VendorOffboarding.objects.filter(pk=started.pk, state="done").first(),
        timeout=120,
        what="the offboarding",
    )
    assert not Vendor.objects.filter(pk=acme_id).exists()
    shown = staff.get(response["Location"])
    assert shown.status_code == 200 and b"acme" in shown.content and b"done" in shown.content
    # Storage: no file and no folder of acme.
    assert not files_of(acme_id)
    assert not [folder for top in TOPS for folder in stored_folders(top) if folder.split("/")[1:2] == [str(acme_id)]]
    # Tables: every model with a vendor key, the deliveries of its endpoints, the journal.
    assert not any(rows_of(acme_id).values()), rows_of(acme_id)
    assert not User.objects.filter(username="acme-owner").exists()
    assert not ApiToken.objects.filter(user__username="acme-owner").exists()
    assert User.objects.get(username="shared-member").is_active and ApiToken.objects.filter(user=shared).exists()
    assert done.removed["users_deleted"] == ["acme-owner"]
    # Redis: no key or hash field names it.
    assert not redis_traces(r, Vendor(pk=acme_id, slug="acme"))
    # Globex is untouched.
    after = rows_of(globex.pk)
    # Its jobs' webhook deliveries go on meanwhile (retries to an address that does not resolve).
    assert after.pop("webhooks.WebhookDelivery") >= before["rows"].pop("webhooks.WebhookDelivery")
    assert after == before["rows"]
    assert files_of(globex.pk) == before["files"]
    assert redis_traces(r, globex) == before["redis"]
    assert Export.objects.filter(vendor=globex, state="ready").count() == 1
    # The audit trail stays: who asked, and what went.
    lines = list(AuditEvent.objects.filter(vendor_id=acme_id).order_by("id").values_list("action", "actor_name"))
    assert ("vendor.offboarding", "operator") in lines and lines[-1] == ("vendor.offboarded", "")
    assert AuditEvent.objects.get(action="vendor.offboarded").details["records"] == 2
    assert WebhookEndpoint.objects.filter(vendor=globex).count() == 1


def test_a_vendor_is_offboarded_once_and_never_deleted_bare_in_the_admin(staff, superuser, vendor, owner):
    offboarding.vendor_offboard_start(vendor=vendor, confirmation="acme", actor=superuser)  # not sent to a worker
    with pytest.raises(offboarding.OffboardingAlreadyRunning):
        offboarding.vendor_offboard_start(vendor=vendor, confirmation="acme", actor=superuser)
    with pytest.raises(offboarding.OffboardingConfirmationMismatch):
        offboarding.vendor_offboard_start(vendor=vendor, confirmation="ACME ", actor=superuser)
    assert VendorOffboarding.objects.filter(vendor_id=vendor.pk).count() == 1
    assert not Vendor.objects.get(pk=vendor.pk).is_active, "its people and keys are refused from now on"
    assert client_for(owner).get("/api/v1/projects/").status_code == 403
    again = staff.post(
        "/admin/vendors/vendor/", {"action": "offboard_vendor", "_selected_action": [vendor.pk], "confirm_slug": "acme"}
    )
    assert again.status_code == 400 and b"being offboarded already" in again.content
    assert staff.get(f"/admin/vendors/vendor/{vendor.pk}/delete/").status_code == 403
    assert b"delete_selected" not in staff.get("/admin/vendors/vendor/").content
