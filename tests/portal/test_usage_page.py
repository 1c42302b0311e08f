"""The portal's Usage page (issue 23, point 3): the last 30 or 90 days of images by kind as a
server-drawn SVG chart, and the month's totals; each vendor sees its own."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from processing.jobs import usage


def add(vendor, days_ago: int, kind: str, step_kind: str = "", **amounts):
    day = timezone.now().date() - timedelta(days=days_ago)
    usage.usage_add(counts=[usage.Count(vendor_id=vendor.pk, kind=kind, step_kind=step_kind, day=day, amounts=amounts)])


@pytest.fixture
def ledger(vendor, outsider):
    """acme: today, 3 days ago and 60 days ago (in the 90-day chart only); globex: its own."""
    add(vendor, 0, "remove_bg", submitted=4, succeeded=3, failed=1, images=3)
    add(vendor, 0, "transform", submitted=2, succeeded=2, images=2)
    add(vendor, 0, "pipeline", submitted=1, succeeded=1, images=3)
    add(vendor, 0, "pipeline", step_kind="remove_bg", images=1)
    add(vendor, 3, "remove_bg", submitted=5, succeeded=5, images=5)
    add(vendor, 60, "transform", submitted=7, succeeded=7, images=7)
    add(outsider.memberships.get().vendor, 0, "remove_bg", submitted=50, succeeded=50, images=50)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "member"])
def test_owner_and_member_see_their_vendors_usage(request, who, browser_for, ledger):
    page = browser_for(request.getfixturevalue(who)).get(reverse("portal:usage"))
    assert page.status_code == 200
    bars = page.content.decode().count('class="bar"')
    assert bars == 4, "today's three kinds and three days ago's remove_bg, nothing older"
    assert page.context["chart"].legend == [
        ("pipeline", "#2457c5", 3),
        ("remove_bg", "#1f7a3f", 8),
        ("transform", "#b3261e", 2),
    ]


@pytest.mark.django_db
def test_an_outsider_sees_only_its_own_and_anonymous_visitors_sign_in(client, browser_for, outsider, ledger):
    page = browser_for(outsider).get(reverse("portal:usage") + "?days=90")
    assert [(kind, images) for kind, _, images in page.context["chart"].legend] == [("remove_bg", 50)]
    response = client.get(reverse("portal:usage"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_chart_renders_with_the_right_totals(live_server, page, owner, ledger):
    from tests.support.browser import sign_in

    sign_in(page, live_server)
    page.get_by_role("link", name="Usage").click()
    page.get_by_role("heading", name="Usage", exact=True).wait_for()
    chart = page.locator("svg.usage-chart")
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 80, "the chart is drawn at a readable size"

    def drawn():
        """Images per kind as the drawn bars say, and how many bars have a visible height."""
        return page.evaluate(
            """() => {
                const bars = [...document.querySelectorAll('svg.usage-chart rect.bar')];
                const totals = {};
                for (const bar of bars) totals[bar.dataset.kind] = (totals[bar.dataset.kind] || 0) + +bar.dataset.images;
                return {totals, visible: bars.filter(b => b.getBoundingClientRect().height > 0).length};
            }"""
        )

    assert drawn() == {"totals": {"pipeline": 3, "remove_bg": 8, "transform": 2}, "visible": 4}
    assert page.locator(".legend li[data-kind=remove_bg] .images").inner_text() == "8"
    # This month's table: today's rows, and three days ago's if it falls in this month.
    today = timezone.now().date()
    month_remove_bg = 3 + (5 if (today - timedelta(days=3)).month == today.month else 0)
    assert page.locator("tr[data-kind=remove_bg] .images").inner_text() == str(month_remove_bg)
    assert page.locator("tr[data-kind=total] .images").inner_text() == str(month_remove_bg + 2 + 3)
    assert "remove_bg 1" in page.locator(".card", has_text="This month").inner_text()

    page.get_by_role("link", name="Last 90 days").click()
    page.get_by_role("heading", name="Images per day, last 90 days").wait_for()
    assert drawn() == {"totals": {"pipeline": 3, "remove_bg": 8, "transform": 9}, "visible": 5}
    # The tallest day (today: 8 images) is drawn to scale: 8/10 of the plot (axis top 10, 204 units).
    today_height = page.evaluate(
        f"() => [...document.querySelectorAll('svg.usage-chart rect.bar[data-day=\"{today}\"]')]"
        ".reduce((sum, bar) => sum + +bar.getAttribute('height'), 0)"
    )
    assert today_height == pytest.approx(204 * 8 / 10, abs=0.05)
