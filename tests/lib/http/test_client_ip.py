"""Which address is the client's: the first hop from the right that is not a trusted proxy
(TRUSTED_PROXIES). What this means for limits and lockouts: tests/security/test_trusted_proxies.py."""

import pytest

from processing.lib.http.client_ip import client_address, trusted_proxies

PROXY = "10.0.0.2"


@pytest.mark.parametrize(
    "peer, forwarded_for, client",
    [
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy: its header is ignored
        (PROXY, "198.51.100.1", "198.51.100.1"),
        (PROXY, "192.0.2.1, 198.51.100.1", "198.51.100.1"),  # the client's own claim is left of it
        (PROXY, "198.51.100.1, 10.0.0.2", "198.51.100.1"),  # two proxies of ours
        (PROXY, "198.51.100.1:4711", "198.51.100.1"),
        (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
        (PROXY, "fd00:1::9, fd00:1::8", "fd00:1::9"),  # every hop ours: the leftmost, as uvicorn does
        (PROXY, "not-an-address", PROXY),
        (PROXY, "", PROXY),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(peer, forwarded_for, client):
    proxies = trusted_proxies((PROXY, "fd00:1::/64"))
    assert client_address(peer=peer, forwarded_for=forwarded_for, proxies=proxies) == client


def test_a_star_trusts_every_peer():
    proxies = trusted_proxies(("*",))
    assert client_address(peer="203.0.113.7", forwarded_for="198.51.100.1, 10.0.0.2", proxies=proxies) == (
        "198.51.100.1"
    )
