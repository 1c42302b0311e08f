"""Signing in and out, and switching between the vendors a user belongs to."""

import pytest
from django.urls import reverse

from tests.factories import make_vendor
from vendors import services as vendor_services

pytestmark = pytest.mark.django_db


def test_sign_in_lands_on_the_dashboard_and_sign_out_ends_the_session(client, owner):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "acme-owner", "password": "pw-acme-owner"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "acme" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_sentence(client, owner):
    response = client.post("/accounts/login/", {"username": "acme-owner", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_a_member_of_two_vendors_switches_between_them(client, owner, vendor):
    other = make_vendor("initech")
    vendor_services.member_add(vendor=other, user=owner)
    vendor_services.project_create(vendor=vendor, name="Acme catalogue")
    vendor_services.project_create(vendor=other, name="Initech catalogue")
    client.force_login(owner)

    page = client.get("/").content.decode()
    assert "Acme catalogue" in page and "Initech catalogue" not in page

    client.post(reverse("portal:vendor-switch"), {"vendor": "initech"})
    page = client.get("/").content.decode()
    assert "Initech catalogue" in page and "Acme catalogue" not in page
