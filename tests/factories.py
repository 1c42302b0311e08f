"""Small builders for test data, through the same services the product uses."""

from django.contrib.auth import get_user_model

from vendors import services
from vendors.models import Vendor
from vendors.plans import ensure_default_plans


def make_vendor(slug: str, plan: str = "standard") -> Vendor:
    ensure_default_plans()  # transactional tests flush the seeded rows
    return services.vendor_create(slug=slug, plan_slug=plan)


def make_member(vendor: Vendor, username: str, role: str = "member"):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    services.member_add(vendor=vendor, user=user, role=role)
    return user
