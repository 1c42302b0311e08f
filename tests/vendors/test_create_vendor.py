import pytest
from django.core.management.base import CommandError

from tests.support.commands import command_output
from vendors.models import Membership, Vendor
from vendors.services import api_token_use

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    return command_output("create_vendor", *args).strip().splitlines()


def test_creates_vendor_and_owner_and_prints_the_token_last():
    lines = run("acme", "--user", "alice")
    vendor = Vendor.objects.get(slug="acme")
    assert vendor.plan.slug == "standard"
    membership = Membership.objects.get(vendor=vendor, user__username="alice")
    assert membership.role == "owner"
    assert api_token_use(key=lines[-1]).user == membership.user


def test_running_it_again_reuses_everything():
    first = run("acme", "--user", "alice", "--plan", "premium")
    second = run("acme", "--user", "alice")
    # A key is shown once and not stored: a second run prints a new one; both work.
    assert first[-1] != second[-1]
    assert api_token_use(key=first[-1]).user == api_token_use(key=second[-1]).user
    assert Vendor.objects.count() == 1 and Membership.objects.count() == 1


def test_an_unknown_plan_is_a_clear_error():
    with pytest.raises(CommandError, match="no plan 'gold'"):
        run("acme", "--user", "alice", "--plan", "gold")
    assert not Vendor.objects.exists()


def test_plans_are_seeded():
    from vendors.models import Plan

    plans = {p.slug: p for p in Plan.objects.all()}
    assert plans["standard"].remove_bg_limit == 30 and plans["standard"].image_requests_limit == 50
    assert plans["premium"].remove_bg_limit > 30 and plans["premium"].get_default_priority_display() == "high"
    assert plans["unlimited"].image_requests_limit is None
