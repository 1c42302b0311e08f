"""Managing webhook endpoints: owners add and remove them, members see them, others see nothing."""

import socket

import pytest
from rest_framework.test import APIClient

from processing.webhooks.models import WebhookEndpoint
from tests.support.clients import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]  # endpoint cache, quota counters

HOOK = "http://127.0.0.1:9/hooks"


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(owner):
    client = client_for(owner)
    response = client.post("/api/v1/webhooks/", {"url": HOOK, "events": ["job.failed"]}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["events"] == ["job.failed"]
    assert created["is_active"] is True

    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/webhooks/{created['id']}/").json()


def test_every_event_by_default(owner):
    created = client_for(owner).post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    assert sorted(created["events"]) == ["batch.finished", "job.failed", "job.succeeded"]


@pytest.mark.parametrize(
    "url, code",
    [
        ("ftp://127.0.0.1/hooks", "invalid_url"),
        ("not a url", "invalid_url"),
        ("http://user:pw@example.com/", "invalid_url"),
    ],
)
def test_only_http_and_https_urls_are_taken(owner, url, code):
    response = client_for(owner).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook"])
def test_private_addresses_are_refused_unless_allowed(owner, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = client_for(owner).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 403  # well-formed, refused by policy
    assert response.json()["code"] == "url_refused"
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_are_refused(owner):
    response = client_for(owner).post("/api/v1/webhooks/", {"url": HOOK, "events": ["job.exploded"]}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "events"


def test_a_member_sees_endpoints_but_cannot_add_or_remove_them(owner, member):
    created = client_for(owner).post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    client = client_for(member)
    assert [e["id"] for e in client.get("/api/v1/webhooks/").json()["results"]] == [created["id"]]
    assert client.post("/api/v1/webhooks/", {"url": HOOK}, format="json").status_code == 403
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_vendor_sees_nothing_and_cannot_delete(owner, outsider):
    created = client_for(owner).post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    client = client_for(outsider)
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/v1/webhooks/{created['id']}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/webhooks/{created['id']}/deliveries/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=created["id"]).exists()


def test_anonymous_callers_are_refused(owner):
    created = client_for(owner).post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    client = APIClient()
    assert client.get("/api/v1/webhooks/").status_code == 401
    assert client.post("/api/v1/webhooks/", {"url": HOOK}, format="json").status_code == 401
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 401


def test_an_owner_removes_an_endpoint(owner):
    client = client_for(owner)
    created = client.post("/api/v1/webhooks/", {"url": HOOK}, format="json").json()
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 404


def test_an_owner_rotates_the_secret_and_sees_the_new_one_once(owner):
    client = client_for(owner)
    created = client.post("/api/v1/webhooks/", {"url": "https://hooks.example.com/in"}, format="json").json()
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/")
    assert rotated.status_code == 200, rotated.content
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None
    shown = client.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "secret" not in shown and shown["previous_secret_expires_at"] == body["previous_secret_expires_at"]


def test_members_cannot_rotate_and_other_vendors_see_nothing(owner, member, outsider):
    created = client_for(owner).post("/api/v1/webhooks/", {"url": "https://hooks.example.com/in"}, format="json")
    endpoint_id = created.json()["id"]
    assert client_for(member).post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret/").status_code == 403
    assert client_for(outsider).post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret/").status_code == 404
    assert client_for(owner).post("/api/v1/webhooks/999999/rotate-secret/").status_code == 404


def test_a_receiver_whose_name_cannot_be_resolved_for_now_is_taken(owner, settings, monkeypatch):
    """A resolver failing for the moment: the name is resolved again for every delivery. (A name
    that does not exist is refused as one pointing inside is: tests/security/test_error_messages.py.)"""

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    response = client_for(owner).post("/api/v1/webhooks/", {"url": "https://hooks.example.net/in"}, format="json")

    assert response.status_code == 201
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.net/in"
