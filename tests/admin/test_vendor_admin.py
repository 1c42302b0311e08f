"""Vendors and plans in the admin: limits with live usage, pause and resume, jobs by state,
and plans created without a deploy. Changes go through vendors.services."""

import pytest

from processing.jobs.models import Job
from processing.jobs.states import JobState
from tests.factories import fail_job, make_job
from vendors.models import Plan, Vendor
from vendors.quotas import quota_consume

pytestmark = pytest.mark.django_db

VENDORS = "/admin/vendors/vendor/"


def test_each_limit_shows_its_live_usage_and_reset_time(staff, vendor, clean_redis):
    quota_consume(vendor=vendor, charges={"image_requests": 3, "remove_bg": 2})

    html = staff.get(f"{VENDORS}{vendor.pk}/change/").content.decode()

    assert '<tr data-quota="image_requests"><td>image-processing requests</td><td class="dr-used">3 / 50</td>' in html
    assert '<tr data-quota="remove_bg"><td>background removals</td><td class="dr-used">2 / 30</td>' in html
    assert "UTC" in html  # the reset time of each window


def test_the_plan_and_an_override_are_editable_and_the_usage_follows(staff, vendor, clean_redis):
    premium = Plan.objects.get(slug="premium")
    form = {
        "name": "Acme Inc",
        "is_active": "on",
        "plan": premium.pk,
        "limit_overrides": '{"remove_bg_limit": 7}',
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }

    response = staff.post(f"{VENDORS}{vendor.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    vendor.refresh_from_db()
    assert (vendor.name, vendor.plan, vendor.limit_overrides) == ("Acme Inc", premium, {"remove_bg_limit": 7})
    html = staff.get(f"{VENDORS}{vendor.pk}/change/").content.decode()
    assert '<td class="dr-used">0 / 500</td>' in html  # premium's image requests
    assert '<td class="dr-used">0 / 7</td>' in html  # the override


def test_a_new_vendor_is_created_through_the_service(staff, db):
    plan = Plan.objects.get(slug="standard")
    form = {"slug": "Initech", "name": "Initech", "is_active": "on", "plan": plan.pk}
    form |= {"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0}

    response = staff.post(f"{VENDORS}add/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Vendor.objects.get(slug="initech").plan == plan


def test_pause_holds_the_waiting_jobs_and_resume_lets_them_go(staff, vendor):
    job = make_job(vendor)

    staff.post(f"{VENDORS}{vendor.pk}/pause/")

    vendor.refresh_from_db()
    assert vendor.is_paused
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED, "nothing is lost"
    assert "Paused: waiting jobs hold." in staff.get(f"{VENDORS}{vendor.pk}/change/").content.decode()

    staff.post(VENDORS, {"action": "resume_vendors", "index": 0, "_selected_action": [vendor.pk]})

    vendor.refresh_from_db()
    assert not vendor.is_paused


def test_pausing_needs_a_post(staff, vendor):
    assert staff.get(f"{VENDORS}{vendor.pk}/pause/").status_code == 405
    vendor.refresh_from_db()
    assert not vendor.is_paused


def test_the_vendor_page_counts_its_jobs_by_state(staff, vendor, outsider):
    make_job(vendor)
    make_job(vendor)
    fail_job(make_job(vendor))
    make_job(outsider.memberships.get().vendor)

    html = staff.get(f"{VENDORS}{vendor.pk}/change/").content.decode()

    table = html.split('class="dr-jobs-by-state"')[1].split("</table>")[0]
    all_row = table.split("<th>All</th>")[1]
    waiting_link = f"?vendor__id__exact={vendor.pk}&amp;state=queued"
    assert f'{waiting_link}">2</a>' in all_row
    assert f'?vendor__id__exact={vendor.pk}&amp;state=failed">1</a>' in all_row


def test_a_new_plan_needs_no_deploy(staff, vendor):
    form = {
        "slug": "enterprise",
        "name": "Enterprise",
        "image_requests_limit": 5000,
        "image_requests_window_s": 900,
        "remove_bg_limit": "",
        "remove_bg_window_s": 3600,
        "bulk_limit": 1000,
        "bulk_window_s": 3600,
        "read_requests_limit": "",
        "read_requests_window_s": 900,
        "uploads_limit": 5000,
        "uploads_window_s": 3600,
        "ai_calls_limit": 20000,
        "ai_calls_window_s": 86400,
        "ai_tokens_limit": 5_000_000,
        "ai_tokens_window_s": 86400,
        "storage_bytes_limit": 10 * 1024**3,
        "max_in_flight": 32,
        "default_priority": 30,
    }

    assert staff.post("/admin/vendors/plan/add/", form).status_code == 302

    plan = Plan.objects.get(slug="enterprise")
    assert (plan.image_requests_limit, plan.remove_bg_limit, plan.max_in_flight) == (5000, None, 32)
    assert (plan.uploads_limit, plan.storage_bytes_limit) == (5000, 10 * 1024**3)
    assert (plan.ai_calls_limit, plan.ai_calls_window_s) == (20000, 86400)
    assert (plan.ai_tokens_limit, plan.ai_tokens_window_s) == (5_000_000, 86400)


def test_a_vendor_user_is_refused(client, owner, vendor):
    client.force_login(owner)

    for url in (VENDORS, f"{VENDORS}{vendor.pk}/change/", "/admin/vendors/plan/"):
        assert client.get(url).status_code == 302
    assert client.post(f"{VENDORS}{vendor.pk}/pause/").status_code == 302
    vendor.refresh_from_db()
    assert not vendor.is_paused
