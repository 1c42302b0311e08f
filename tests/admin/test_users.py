"""Users are vendors.User (AUTH_USER_MODEL) on Django's auth_user tables, managed in the admin;
the migrations describe the models exactly (docs/user-model.md)."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse

from tests.factories import make_member
from tests.support.commands import command_output
from vendors.models import User


def test_the_user_model_is_ours_on_djangos_tables():
    assert get_user_model() is User
    assert User._meta.db_table == "auth_user"
    assert User._meta.get_field("groups").m2m_db_table() == "auth_user_groups"
    assert isinstance(admin.site._registry[User], UserAdmin)


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    # makemigrations --check exits 1 on a change
    assert "No changes detected" in command_output("makemigrations", "--check", "--dry-run")


@pytest.mark.django_db
def test_an_operator_finds_and_edits_a_vendors_user(staff, vendor):
    member = make_member(vendor, "alice")
    listing = staff.get(reverse("admin:vendors_user_changelist"), {"q": "alice"})
    assert listing.status_code == 200 and b"alice" in listing.content
    assert staff.get(reverse("admin:vendors_user_change", args=[member.pk])).status_code == 200
