"""The queue dashboard in real Chromium: an operator signs in, opens /admin/queues/ and sees
the numbers change as jobs arrive, without reloading the page."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_job
from tests.support.browser import ARTIFACTS
from vendors.services import vendor_set_paused

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_shows_live_numbers(live_server, page, superuser, vendor, clean_redis, monkeypatch):
    # The session's shared e2e worker may be beating in Redis: the page is shown a registry
    # without workers, so the notice for that case is what it must display.
    monkeypatch.setattr("processing.admin.dashboard.worker_list", list)
    # A paused vendor's jobs hold as "delayed", whatever admission and workers are doing.
    vendor_set_paused(vendor=vendor, paused=True)
    for _ in range(3):
        make_job(vendor)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/queues/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-operator")
    page.click("input[type=submit]")

    sleepy = page.locator('#dr-queues tr[data-kind="sleepy"]')
    expect(sleepy.locator('td[data-field="delayed"]')).to_have_text("3")
    expect(sleepy.locator('td[data-field="running"]')).to_have_text("0")
    expect(sleepy.locator('td[data-field="oldest_waiting_s"]')).not_to_have_text("—")
    expect(page.locator("#dr-no-workers")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    make_job(vendor)
    make_job(vendor)

    expect(sleepy.locator('td[data-field="delayed"]')).to_have_text("5", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True, "the numbers must change without a reload"
    page.screenshot(path=str(ARTIFACTS / "admin-queues-dashboard.png"), full_page=True)
