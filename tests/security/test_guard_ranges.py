"""The one outbound guard refuses addresses that hide a loopback or private address, or that are
not global although Python's ipaddress says so."""

import ipaddress

import pytest

from processing.lib.http.guard import PUBLIC_ONLY, is_refused_address


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible loopback
        "::ffff:0:7f00:1",  # IPv4-translated loopback
        "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "fec0::1",  # site-local
    ],
)
def test_hidden_and_non_global_ipv6_addresses_are_refused(address):
    assert is_refused_address(ipaddress.ip_address(address))
    assert PUBLIC_ONLY.refuses(address, 443)


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_are_still_allowed(address):
    assert not is_refused_address(ipaddress.ip_address(address))
