"""API keys are stored only as a SHA-256 hash, expire (never later than API_TOKEN_TTL_DAYS unless
the plan allows keys that never expire), can be rotated and revoked, are shown once; `Token <key>`
(what clients send) and `Bearer <key>` both work; the admin shows prefixes only; a user manages
only their own keys, and a vendor's owners see and revoke all its members' keys at once."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from processing.lib.errors import InvalidOptions
from tests.factories import make_member, make_vendor
from tests.support.clients import client_for, client_with_key, parallel_posts
from vendors import services
from vendors.models import ApiToken, Plan

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


# Issue 22, point 2: keys cannot outlive the rules. ttl_days 0 used to make a key that never
# expires, on create and on rotate, from any key: a stolen key could mint 20 immortal ones.


# 0 (never): 403, a well-formed value the plan does not allow; beyond the cap: 400, as the schema says.
REFUSED_TTLS = [(0, 403, "never_expiring_key_not_allowed"), (366, 400, "max_value"), (3650, 400, "max_value")]


@pytest.mark.parametrize("ttl_days, status, code", REFUSED_TTLS)
def test_a_key_cannot_be_made_to_outlive_api_token_ttl_days(owner, ttl_days, status, code):
    client = client_for(owner)
    before = ApiToken.objects.count()

    refused = client.post("/api/v1/tokens/", {"name": "forever", "ttl_days": ttl_days}, format="json")

    assert refused.status_code == status, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == code and refused.json()["field"] == "ttl_days"
    assert ApiToken.objects.count() == before


@pytest.mark.parametrize("ttl_days, status, code", REFUSED_TTLS[:2])
def test_a_rotation_cannot_make_a_key_outlive_api_token_ttl_days(owner, ttl_days, status, code):
    token, key = services.api_token_create(user=owner, ttl_days=30)

    refused = client_with_key(key).post(f"/api/v1/tokens/{token.pk}/rotate/", {"ttl_days": ttl_days}, format="json")

    assert refused.status_code == status, refused.content
    assert refused.json()["code"] == code
    assert ApiToken.objects.get(pk=token.pk).expires_at == token.expires_at  # unchanged, old key still works
    assert client_with_key(key).get("/api/v1/jobs/").status_code == 200


def test_a_key_may_last_up_to_api_token_ttl_days(owner, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    client = client_for(owner)

    made = client.post("/api/v1/tokens/", {"ttl_days": 90}, format="json")
    assert client.post("/api/v1/tokens/", {"ttl_days": 91}, format="json").status_code == 400

    assert made.status_code == 201
    expires = ApiToken.objects.get(pk=made.json()["id"]).expires_at
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)


def test_only_a_plan_that_allows_it_gives_keys_that_never_expire(owner, vendor, outsider):
    Plan.objects.filter(pk=vendor.plan_id).update(never_expiring_api_keys=False)
    allowing = Plan.objects.create(slug="forever", name="Forever", never_expiring_api_keys=True)
    vendor.plan = allowing
    vendor.save()
    client = client_for(owner)

    made = client.post("/api/v1/tokens/", {"ttl_days": 0}, format="json")
    rotated = client.post(f"/api/v1/tokens/{made.json()['id']}/rotate/", {"ttl_days": 0}, format="json")

    assert made.status_code == 201 and made.json()["expires_at"] is None
    assert rotated.status_code == 200 and rotated.json()["expires_at"] is None
    # a member of a second vendor whose plan does not allow it: its keys act there too
    services.member_add(vendor=outsider.memberships.get().vendor, user=owner)
    assert client.post("/api/v1/tokens/", {"ttl_days": 0}, format="json").status_code == 403


def test_the_services_hold_the_cap_for_every_caller(owner, settings):
    """The portal and operators' code go through the same rule as the API."""
    settings.API_TOKEN_TTL_DAYS = 30
    token, _ = services.api_token_create(user=owner)
    for ttl_days, code in ((0, "never_expiring_key_not_allowed"), (31, "key_lifetime_too_long")):
        with pytest.raises(InvalidOptions) as refused:
            services.api_token_create(user=owner, ttl_days=ttl_days)
        assert refused.value.code == code
        with pytest.raises(InvalidOptions):
            services.api_token_rotate(token=token, ttl_days=ttl_days)


@pytest.mark.django_db(transaction=True)
def test_the_key_cap_holds_under_concurrent_requests(live_server):
    vendor = make_vendor("burst")
    user = make_member(vendor, "burst-owner", role="owner")
    key = services.api_token_for(user=user)  # one key held: 19 more fit

    responses = parallel_posts(f"{live_server.url}/api/v1/tokens/", key, [{"name": f"k{n}"} for n in range(30)])

    codes = sorted(response.status_code for response in responses)
    assert codes.count(201) == services.MAX_TOKENS_PER_USER - 1 and codes.count(409) == 11, codes
    assert ApiToken.objects.filter(user=user).count() == services.MAX_TOKENS_PER_USER


def test_an_owner_lists_every_key_of_the_vendor_a_member_and_an_outsider_cannot(owner, member, outsider, api):
    owners, _ = services.api_token_create(user=owner, name="shop")
    members, _ = services.api_token_create(user=member, name="cron")
    outsiders, _ = services.api_token_create(user=outsider, name="theirs")

    listed = client_for(owner).get("/api/v1/vendor-tokens/")
    by_member = client_for(member).get("/api/v1/vendor-tokens/")
    by_outsider = client_for(outsider).get("/api/v1/vendor-tokens/")

    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()["results"]}
    assert {owners.pk, members.pk} <= set(rows) and outsiders.pk not in rows
    assert rows[members.pk]["user"] == member.username and rows[members.pk]["prefix"] == members.prefix
    assert "key" not in rows[members.pk]
    assert by_member.status_code == 403 and by_member.json()["code"] == "permission_denied"
    assert by_outsider.status_code == 200  # their own vendor's keys only
    assert outsiders.pk in {row["id"] for row in by_outsider.json()["results"]}
    assert not {owners.pk, members.pk} & {row["id"] for row in by_outsider.json()["results"]}
    assert api.get("/api/v1/vendor-tokens/").status_code == 401


def test_an_owner_revokes_every_key_of_the_vendor_at_once(owner, member, outsider, api):
    _, owners_key = services.api_token_create(user=owner)
    _, members_key = services.api_token_create(user=member)
    _, outsiders_key = services.api_token_create(user=outsider)

    by_member = client_with_key(members_key).post("/api/v1/vendor-tokens/revoke-all/")
    by_outsider = client_with_key(outsiders_key).post("/api/v1/vendor-tokens/revoke-all/")
    anonymous = api.post("/api/v1/vendor-tokens/revoke-all/")
    assert by_member.status_code == 403 and anonymous.status_code == 401
    assert by_outsider.status_code == 200 and by_outsider.json() == {"revoked": 1}  # globex's only
    assert client_with_key(members_key).get("/api/v1/jobs/").status_code == 200
    assert client_with_key(owners_key).get("/api/v1/jobs/").status_code == 200

    revoked = client_with_key(owners_key).post("/api/v1/vendor-tokens/revoke-all/")

    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    assert client_with_key(owners_key).get("/api/v1/jobs/").status_code == 401
    assert client_with_key(members_key).get("/api/v1/jobs/").status_code == 401
    assert not ApiToken.objects.filter(user__in=[owner, member]).exists()


def test_the_portal_shows_an_owner_every_key_and_revokes_them_all(browser_for, client, owner, member, outsider):
    owners, _ = services.api_token_create(user=owner)
    members, members_key = services.api_token_create(user=member)
    outsiders, outsiders_key = services.api_token_create(user=outsider)

    page = browser_for(owner).get("/api-keys/").content.decode()
    members_page = browser_for(member).get("/api-keys/").content.decode()
    assert members.prefix in page and member.username in page and outsiders.prefix not in page
    assert "Revoke all keys" in page and "Revoke all keys" not in members_page
    assert owners.prefix not in members_page

    assert browser_for(member).post("/api-keys/revoke-all/").status_code == 403
    assert client.post("/api-keys/revoke-all/").status_code == 302  # anonymous: to the sign-in page
    assert browser_for(outsider).post("/api-keys/revoke-all/").status_code == 302  # globex's keys only
    assert client_with_key(members_key).get("/api/v1/jobs/").status_code == 200
    assert client_with_key(outsiders_key).get("/api/v1/jobs/").status_code == 401

    revoked = browser_for(owner).post("/api-keys/revoke-all/", follow=True)

    assert "2 API keys of" in revoked.content.decode()
    assert not ApiToken.objects.filter(user__in=[owner, member]).exists()
    assert client_with_key(members_key).get("/api/v1/jobs/").status_code == 401
