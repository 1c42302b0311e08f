"""Where a request goes: the address that was checked, never a second DNS answer. The same
client carries URL inputs, webhook deliveries, AI endpoint calls and remote rembg requests."""

import socket

import pytest

from processing.lib.errors import RefusedAddress
from processing.lib.http.client import safe_request
from processing.lib.http.guard import OPERATOR_CONFIGURED, PUBLIC_ONLY


def answers(*addresses):
    """A resolver whose answers change between calls, as a rebinding attacker's DNS would."""
    calls = iter(addresses)

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(calls), port))]

    return getaddrinfo


def test_a_request_goes_to_the_public_address_that_was_checked(monkeypatch, sent):
    monkeypatch.setattr(socket, "getaddrinfo", answers("93.184.216.34", "127.0.0.1"))
    answer = safe_request("POST", "https://hooks.example.com/in?x=1", policy=PUBLIC_ONLY, timeout_s=5, max_bytes=10)
    assert answer.status == 204
    (request,) = sent
    assert str(request.url) == "https://93.184.216.34/in?x=1"
    assert request.headers["Host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def test_a_name_that_now_points_inside_is_refused(monkeypatch, sent):
    monkeypatch.setattr(socket, "getaddrinfo", answers("10.0.0.5"))
    with pytest.raises(RefusedAddress):
        safe_request("POST", "https://hooks.example.com/in", policy=PUBLIC_ONLY, timeout_s=5, max_bytes=10)
    assert sent == []


def test_operator_configured_destinations_may_be_private(sent):
    safe_request("GET", "http://127.0.0.1:8123/api", policy=OPERATOR_CONFIGURED, timeout_s=5, max_bytes=10)
    (request,) = sent
    assert str(request.url) == "http://127.0.0.1:8123/api"
    assert request.headers["Host"] == "127.0.0.1:8123"
