"""Who may see what: owner and member of a vendor see its things; an outsider gets 404 for
them; an anonymous visitor is sent to sign in."""

import pytest
from django.urls import reverse

from processing.jobs import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(vendor, records):
    return services.batch_create(vendor=vendor, kind="transform", params={"width": 4}, records=records)


def vendor_pages(project, records, batch):
    job = batch.jobs.first()
    return [
        reverse("portal:project", args=[project.pk]),
        reverse("portal:record", args=[records[0].pk]),
        reverse("portal:batch-status", args=[batch.pk]),
        reverse("portal:batch-download", args=[batch.pk]),
        reverse("portal:job-download", args=[job.pk]),
        reverse("portal:record-download", args=[records[0].pk]),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, project, records, batch):
    for url in ["/", reverse("portal:jobs"), *vendor_pages(project, records, batch)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    response = client.post(reverse("portal:record-upload", args=[project.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["owner", "member"])
def test_owner_and_member_see_the_vendor_pages(request, who, browser_for, project, records, batch):
    web = browser_for(request.getfixturevalue(who))
    dashboard = web.get("/")
    assert dashboard.status_code == 200
    assert "Acme shoes" in dashboard.content.decode()
    page = web.get(reverse("portal:project", args=[project.pk])).content.decode()
    assert all(r.original_filename in page for r in records)
    assert web.get(reverse("portal:record", args=[records[0].pk])).status_code == 200
    assert web.get(reverse("portal:batch-status", args=[batch.pk])).json()["total"] == 3
    assert web.get(reverse("portal:jobs")).status_code == 200


def test_an_outsider_gets_404_for_another_vendors_things(browser_for, outsider, project, records, batch):
    web = browser_for(outsider)
    for url in vendor_pages(project, records, batch):
        assert web.get(url).status_code == 404, url
    job = batch.jobs.first()
    for url in [
        reverse("portal:record-upload", args=[project.pk]),
        reverse("portal:jobs-start", args=[project.pk]),
        reverse("portal:job-cancel", args=[job.pk]),
        reverse("portal:job-retry", args=[job.pk]),
        reverse("portal:batch-retry", args=[batch.pk]),
    ]:
        assert web.post(url, {"kind": "transform", "records": [records[0].pk]}).status_code == 404, url
    job.refresh_from_db()
    assert job.state == "queued", "an outsider's cancel must not touch the job"
    assert "Acme shoes" not in web.get("/").content.decode()
    assert str(job.pk) not in web.get(reverse("portal:jobs")).content.decode()


def test_an_outsider_cannot_switch_to_a_vendor_they_are_not_in(browser_for, outsider, vendor):
    web = browser_for(outsider)
    assert web.post(reverse("portal:vendor-switch"), {"vendor": vendor.slug}).status_code == 404
    assert "globex" in web.get("/").content.decode()


def test_a_user_without_a_vendor_is_told_so(browser_for, django_user_model):
    loner = django_user_model.objects.create_user(username="loner", password="pw-loner")
    response = browser_for(loner).get("/")
    assert response.status_code == 403
    assert "not a member of an active vendor" in response.content.decode()
