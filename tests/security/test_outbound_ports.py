"""Outbound requests reach web ports only: an input URL or a webhook receiver naming another port
(a database, Redis, a mail server) is refused before anything is resolved or sent, unless the
operator allows that port (IMAGE_FETCH_ALLOWED_PORTS, WEBHOOK_ALLOWED_PORTS, an "address:port"
in the allowlist). Destinations the operator configured (AI endpoints, remote rembg) may use any."""

import socket

import pytest

from processing.jobs.outbound import url_input_policy
from processing.lib.errors import InvalidOptions, RefusedAddress
from processing.lib.http.client import safe_request
from processing.lib.http.fetch import fetch_image
from processing.lib.http.guard import OPERATOR_CONFIGURED, PUBLIC_ONLY, AddressPolicy
from processing.webhooks.models import WebhookEndpoint
from tests.support.clients import client_for
from tests.support.photos import image_bytes

PNG = image_bytes()


@pytest.fixture
def public_dns(monkeypatch):
    """Every name resolves to one public address."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url", ["http://shop.example.com:6379/", "https://shop.example.com:3306/x", "http://shop.example.com:25/"]
)
def test_a_public_host_on_another_port_is_refused_and_nothing_is_sent(public_dns, sent, url):
    with pytest.raises(RefusedAddress) as refused:
        safe_request("GET", url, policy=PUBLIC_ONLY, timeout_s=5, max_bytes=10)
    assert refused.value.code == "port_refused"
    assert sent == []


@pytest.mark.parametrize(
    "url", ["http://shop.example.com/", "https://shop.example.com/", "https://shop.example.com:443/"]
)
def test_web_ports_are_allowed(public_dns, sent, url):
    assert safe_request("GET", url, policy=PUBLIC_ONLY, timeout_s=5, max_bytes=10).status == 204
    assert len(sent) == 1


def test_an_allowlisted_address_and_port_may_be_reached(public_dns, sent):
    policy = AddressPolicy(allowlist=frozenset({"93.184.216.34:8080"}))
    assert safe_request("GET", "http://shop.example.com:8080/", policy=policy, timeout_s=5, max_bytes=10).status == 204
    with pytest.raises(RefusedAddress):
        safe_request("GET", "http://shop.example.com:8081/", policy=policy, timeout_s=5, max_bytes=10)


def test_operator_configured_destinations_may_use_any_port(public_dns, sent):
    safe_request("GET", "http://127.0.0.1:7000/api", policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=10)
    assert sent[0].url.port == 7000


def test_an_input_url_on_another_port_fails_the_job_as_refused(serve, settings):
    """A real loopback image server on a random port: private addresses are allowed (as in
    tests), ports are what the production default says."""
    images = serve({"/cat.png": lambda r: (200, {"Content-Type": "image/png"}, PNG)})
    settings.IMAGE_FETCH_ALLOW_PRIVATE = True
    settings.IMAGE_FETCH_ALLOWED_PORTS = [80, 443]
    with pytest.raises(InvalidOptions) as refused:
        fetch_image(images.url("/cat.png"), policy=url_input_policy(), max_bytes=65536, timeout_s=2)
    assert refused.value.code == "port_refused"
    assert images.calls("/cat.png") == 0

    settings.IMAGE_FETCH_ALLOWED_PORTS = []  # the operator allows any port
    assert fetch_image(images.url("/cat.png"), policy=url_input_policy(), max_bytes=65536, timeout_s=2) == PNG


@pytest.mark.django_db
def test_a_webhook_receiver_on_another_port_is_refused(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_ALLOWED_PORTS = [80, 443]
    client = client_for(owner)
    refused = client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:6379/hook"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "port_refused"
    assert client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1/hook"}, format="json").status_code == 201
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == ["http://127.0.0.1/hook"]
