"""The portal's multi-select Delete (in Chromium: select, confirm, the cards go; and as plain
requests: member yes, another vendor no, anonymous to sign-in) and the admin's delete, which goes
through the same service as the API; the audit trail is read-only in the admin."""

import pytest

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record
from tests.support.browser import sign_in_and_create_project, watch_console
from tests.support.media import record_files, stored_files
from tests.support.photos import image_bytes
from vendors import services as vendor_services
from vendors.models import AuditEvent, Project, ProjectDeletion, Record, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(vendor):
    return vendor_services.project_create(vendor=vendor, name="Spring catalogue")


def test_a_member_deletes_selected_photos_in_the_portal(vendor, member, project, browser_for):
    records = [make_record(vendor, f"{n}.png", project=project) for n in "abc"]
    names = record_files(records[0]) | record_files(records[1])

    response = browser_for(member).post(
        f"/projects/{project.pk}/delete/",
        {"records": [records[0].pk, records[1].pk]},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "2 photos deleted"
    assert list(Record.objects.filter(project=project).values_list("pk", flat=True)) == [records[2].pk]
    assert not names & stored_files()
    assert AuditEvent.objects.get().actor_name == "acme-member"


def test_the_portal_delete_refuses_others_and_empty_selections(vendor, owner, outsider, project, browser_for, client):
    record = make_record(vendor, project=project)
    url = f"/projects/{project.pk}/delete/"
    assert browser_for(outsider).post(url, {"records": [record.pk]}).status_code == 404
    anonymous = client.post(url, {"records": [record.pk]})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    empty = browser_for(owner).post(url, {}, HTTP_ACCEPT="application/json")
    assert empty.status_code == 400 and empty.json()["detail"] == "Select at least one photo."
    other_project = vendor_services.project_create(vendor=vendor, name="Other")
    stranger = make_record(vendor, project=other_project)
    assert browser_for(owner).post(url, {"records": [stranger.pk]}, HTTP_ACCEPT="application/json").status_code == 400
    assert Record.objects.filter(vendor=vendor).count() == 2


def test_an_operator_deletes_records_in_the_admin_as_a_vendor_would(staff, superuser, vendor):
    record = make_record(vendor)
    job = services.job_create(vendor=vendor, kind="sleepy", record=record)
    names = record_files(record)

    response = staff.post(
        "/admin/vendors/record/",
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Record.objects.filter(pk=record.pk).exists() and not names & stored_files()
    assert Job.objects.get(pk=job.pk).state == "cancelled"
    event = AuditEvent.objects.get()
    assert (event.actor_kind, event.actor_name, event.vendor_slug) == ("operator", "operator", "acme")


def test_an_operator_deletes_a_project_in_the_admin_in_the_background(staff, vendor, project):
    make_record(vendor, project=project)
    response = staff.post(f"/admin/vendors/project/{project.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deletion = ProjectDeletion.objects.get()
    assert (deletion.project_id, deletion.total, deletion.state) == (project.pk, 1, "running")
    assert Project.objects.get(pk=project.pk).deletion_requested_at is not None
    assert AuditEvent.objects.get().actor_kind == "operator"


def test_the_audit_trail_is_read_only_in_the_admin_and_outlives_the_vendor(staff, vendor, owner):
    record = make_record(vendor)
    services.records_delete(vendor=vendor, record_ids=[record.pk], actor=owner)
    event = AuditEvent.objects.get()
    listing = staff.get("/admin/vendors/auditevent/")
    assert listing.status_code == 200 and "acme-owner" in listing.content.decode()
    assert staff.get(f"/admin/vendors/auditevent/{event.pk}/change/").status_code == 200
    assert staff.get("/admin/vendors/auditevent/add/").status_code == 403
    assert staff.post(f"/admin/vendors/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.post(f"/admin/vendors/auditevent/{event.pk}/change/", {"target": "x"}).status_code == 403
    assert AuditEvent.objects.get().target == event.target

    Vendor.objects.filter(pk=vendor.pk).delete()  # the vendor and its users' memberships go
    owner.delete()
    kept = AuditEvent.objects.get()
    assert (kept.vendor_slug, kept.actor_name, kept.target) == ("acme", "acme-owner", event.target), "kept after all"


@pytest.mark.e2e
@pytest.mark.browser
def test_selected_photos_are_deleted_after_a_confirmation_in_the_browser(live_server, page, owner, tmp_path):
    problems: list[str] = []
    watch_console(page, problems)
    sign_in_and_create_project(page, live_server, "Catalogue")
    files = []
    for n in range(3):
        path = tmp_path / f"photo-{n}.jpg"
        path.write_bytes(image_bytes((64, 48), (200, 30 * n, 0), format="JPEG"))
        files.append(str(path))
    page.set_input_files("#file-input", files)
    page.locator("#uploads li.done").nth(2).wait_for()
    ids = sorted(Record.objects.values_list("pk", flat=True))
    names = record_files(Record.objects.get(pk=ids[0])) | record_files(Record.objects.get(pk=ids[1]))

    page.locator(f'.record[data-record-id="{ids[0]}"] .pick-box').check()
    page.locator(f'.record[data-record-id="{ids[1]}"] .pick-box').check()
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete").click()
    page.wait_for_timeout(300)
    assert dialogs == ["Delete 2 photos with their results? This cannot be undone."]
    assert Record.objects.count() == 3, "dismissed: nothing deleted"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.locator(f'.record[data-record-id="{ids[0]}"]').wait_for(state="detached")
    assert page.locator(".record").count() == 1
    assert page.locator("#selected-count").inner_text() == "0 selected"
    assert list(Record.objects.values_list("pk", flat=True)) == [ids[2]]
    assert not names & stored_files()
    assert problems == []
