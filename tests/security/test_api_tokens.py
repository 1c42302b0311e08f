"""API keys are stored only as a SHA-256 hash, expire, can be rotated and revoked, are shown
once; `Token <key>` (what clients send) and `Bearer <key>` both work; the admin shows prefixes
only, and a user manages only their own keys."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests.support.clients import client_for, client_with_key
from vendors import services
from vendors.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_hash_and_shown_once(owner):
    session = APIClient()
    session.force_authenticate(owner)
    made = session.post("/api/v1/tokens/", {"name": "shop"}, format="json")
    assert made.status_code == 201
    key = made.json()["key"]

    row = ApiToken.objects.get(pk=made.json()["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(row.prefix) and len(row.prefix) < len(key) // 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM vendors_apitoken")
        assert key not in repr(cursor.fetchall())  # nowhere in the table
    listed = session.get("/api/v1/tokens/").json()
    assert key not in str(listed)
    assert [t["prefix"] for t in listed["results"]] == [row.prefix]


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token", "bearer"])
def test_token_and_bearer_both_work(owner, keyword):
    key = services.api_token_for(user=owner)
    assert client_with_key(key, keyword).get("/api/v1/jobs/").status_code == 200
    assert client_with_key(key + "x", keyword).get("/api/v1/jobs/").status_code == 401


def test_an_expired_key_is_refused(owner):
    token, key = services.api_token_create(user=owner, ttl_days=30)
    assert client_with_key(key).get("/api/v1/jobs/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_with_key(key).get("/api/v1/jobs/").status_code == 401


def test_keys_expire_by_default(owner, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    token, _ = services.api_token_create(user=owner)
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


def test_rotation_gives_a_new_key_and_the_old_one_stops(owner):
    token, old = services.api_token_create(user=owner)
    rotated = client_with_key(old).post(f"/api/v1/tokens/{token.pk}/rotate/", {}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()["key"]
    assert new != old
    assert client_with_key(old).get("/api/v1/jobs/").status_code == 401
    assert client_with_key(new).get("/api/v1/jobs/").status_code == 200


def test_revoked_keys_stop_at_once(owner):
    token, key = services.api_token_create(user=owner)
    assert client_for(owner).delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert client_with_key(key).get("/api/v1/jobs/").status_code == 401


def test_owner_member_and_outsider_manage_only_their_own_keys(owner, member, outsider):
    owners_token, owners_key = services.api_token_create(user=owner)
    for user in (member, outsider):
        theirs = client_for(user)
        assert owners_token.pk not in [t["id"] for t in theirs.get("/api/v1/tokens/").json()["results"]]
        assert theirs.delete(f"/api/v1/tokens/{owners_token.pk}/").status_code == 404
        assert theirs.post(f"/api/v1/tokens/{owners_token.pk}/rotate/", {}, format="json").status_code == 404
    assert client_with_key(owners_key).get("/api/v1/jobs/").status_code == 200


def test_a_user_holds_a_bounded_number_of_keys(owner):
    client = client_for(owner)
    codes = [client.post("/api/v1/tokens/", {}, format="json").status_code for _ in range(services.MAX_TOKENS_PER_USER)]
    assert codes.count(201) == services.MAX_TOKENS_PER_USER - 1
    assert codes[-1] == 409  # the request is valid; what the user holds does not allow it
    assert client.post("/api/v1/tokens/", {}, format="json").json()["code"] == "too_many_tokens"


def test_the_portal_shows_a_new_key_once_and_lists_prefixes(browser_for, owner, member, outsider):
    for user in (owner, member, outsider):
        browser = browser_for(user)
        made = browser.post("/api-keys/new/", {"name": "shop"})
        assert made.status_code == 201
        key = made.context["new_key"]
        assert key in made.content.decode()
        page = browser.get("/api-keys/").content.decode()
        assert key not in page and key[:12] in page
        assert client_with_key(key).get("/api/v1/jobs/").status_code == 200
    owners = ApiToken.objects.filter(user=owner).first()
    browser = browser_for(outsider)
    assert browser.post(f"/api-keys/{owners.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=owners.pk).exists()
    browser.force_login(owner)
    assert browser.post(f"/api-keys/{owners.pk}/revoke/").status_code == 302
    assert not ApiToken.objects.filter(pk=owners.pk).exists()


def test_the_admin_lists_prefixes_never_keys(staff, owner):
    token, key = services.api_token_create(user=owner, name="shop")
    page = staff.get("/admin/vendors/apitoken/").content.decode()
    assert token.prefix in page and key not in page and token.key_hash not in page
    detail = staff.get(f"/admin/vendors/apitoken/{token.pk}/change/").content.decode()
    assert key not in detail and token.key_hash not in detail
    assert staff.get("/admin/authtoken/tokenproxy/").status_code == 404  # DRF's TokenAdmin is gone


@pytest.mark.django_db(transaction=True)  # MySQL commits around CREATE TABLE
def test_existing_drf_tokens_are_hashed_by_the_migration_and_keep_working(owner):
    """What 0005 does on a database that had DRF's authtoken: integrators' keys keep working,
    and no plain-text key is left behind."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("vendors.migrations.0005_api_tokens_hashed")
    legacy_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (`key` varchar(40) PRIMARY KEY, user_id int NOT NULL, created datetime(6))"
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [legacy_key, owner.pk, timezone.now()])
        migration.hash_legacy_tokens(apps, SimpleNamespace(connection=connection))

        assert client_with_key(legacy_key).get("/api/v1/jobs/").status_code == 200
        assert ApiToken.objects.get(user=owner).prefix == legacy_key[:8]
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")
