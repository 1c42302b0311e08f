"""Behind the proxy, limits see the real client (issue 22, point 3): X-Forwarded-For is believed
only from a peer listed in TRUSTED_PROXIES (FORWARDED_ALLOW_IPS, which gunicorn and uvicorn read
too), so clients behind the proxy are limited each on their own, and a client that talks to us
directly cannot pick the address it is counted under. Sign-in lockouts by the same address:
tests/security/test_sign_in_lockout.py. Which hop is the client: tests/lib/http/test_client_ip.py."""

import pytest

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY, "fd00:1::/64"]
    settings.ANON_RATE_LIMIT = "3/15m"


def anonymous(api, *, peer: str, forwarded_for: str | None = None) -> int:
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return api.get("/api/v1/jobs/", **extra).status_code


def test_two_clients_behind_the_proxy_are_limited_separately(api, behind_proxy):
    first = [anonymous(api, peer=PROXY, forwarded_for="198.51.100.1") for _ in range(4)]
    second = [anonymous(api, peer=PROXY, forwarded_for="198.51.100.2") for _ in range(3)]

    assert first == [401, 401, 401, 429]
    assert second == [401, 401, 401], "the second client has its own budget, not the proxy's"


def test_a_client_cannot_claim_another_address_through_the_proxy(api, behind_proxy):
    """The proxy appends the address it saw: what the client wrote before it is not believed."""
    codes = [anonymous(api, peer=PROXY, forwarded_for=f"192.0.2.{n}, 198.51.100.3") for n in range(4)]
    assert codes == [401, 401, 401, 429]


def test_a_spoofed_forwarded_for_from_an_untrusted_address_is_ignored(api, behind_proxy):
    codes = [anonymous(api, peer="203.0.113.7", forwarded_for=f"198.51.100.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429], "each request counted against the peer, whatever it claimed"
    assert anonymous(api, peer="203.0.113.7") == 429


def test_without_trusted_proxies_the_header_means_nothing(api, settings):
    settings.TRUSTED_PROXIES = []
    settings.ANON_RATE_LIMIT = "2/15m"
    codes = [anonymous(api, peer="127.0.0.1", forwarded_for=f"198.51.100.{n}") for n in range(3)]
    assert codes == [401, 401, 429]


@pytest.fixture
def three_anonymous_requests(monkeypatch):
    """For the uvicorn process asgi_server starts after this (it inherits the environment)."""
    monkeypatch.setenv("ANON_RATE_LIMIT", "3/15m")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_under_uvicorn_two_clients_behind_the_proxy_are_limited_separately(three_anonymous_requests, asgi_server):
    """The production way: uvicorn resolves the client from FORWARDED_ALLOW_IPS (loopback, its
    default and ours) and the app resolves it again from TRUSTED_PROXIES: the same address."""
    import httpx

    def codes(client: str, n: int) -> list[int]:
        headers = {"X-Forwarded-For": f"192.0.2.1, {client}"}
        return [httpx.get(f"{asgi_server}/api/v1/jobs/", headers=headers).status_code for _ in range(n)]

    assert codes("198.51.100.21", 4) == [401, 401, 401, 429]
    assert codes("198.51.100.22", 3) == [401, 401, 401]
