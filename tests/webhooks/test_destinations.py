"""Where a delivery goes: the address that was checked, never a second DNS answer."""

import socket

import pytest

from processing.webhooks.destinations import RefusedDestination, pinned_target


def answers(*addresses):
    """A resolver whose answers change between calls, as a rebinding attacker's DNS would."""
    calls = iter(addresses)

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(calls), port))]

    return getaddrinfo


def test_a_delivery_is_sent_to_the_public_address_that_was_checked(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(socket, "getaddrinfo", answers("93.184.216.34", "127.0.0.1"))
    target, host, server_name = pinned_target("https://hooks.example.com/in?x=1")
    assert target == "https://93.184.216.34:443/in?x=1"
    assert (host, server_name) == ("hooks.example.com", "hooks.example.com")


def test_a_name_that_now_points_inside_is_refused(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(socket, "getaddrinfo", answers("10.0.0.5"))
    with pytest.raises(RefusedDestination):
        pinned_target("https://hooks.example.com/in")


def test_loopback_receivers_are_used_as_given_when_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert pinned_target("http://127.0.0.1:8123/hook") == ("http://127.0.0.1:8123/hook", "127.0.0.1:8123", "127.0.0.1")
