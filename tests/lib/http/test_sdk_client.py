"""The client the AI SDKs send through keeps the outbound rules: refused addresses are never
connected to, connections go to a checked address with the Host header kept, bodies are capped."""

import anthropic
import httpx2
import pytest

from processing.lib.errors import RefusedAddress
from processing.lib.http.client import BodyTooLarge
from processing.lib.http.guard import OPERATOR_CONFIGURED, PUBLIC_ONLY
from processing.lib.http.sdk import guarded_sdk_client


def test_a_loopback_base_url_is_refused_under_the_public_only_policy(serve):
    server = serve({"/v1/messages": lambda r: (200, {}, b"{}")})
    client = anthropic.Anthropic(
        api_key="k",
        base_url=server.url(""),
        max_retries=0,
        http_client=guarded_sdk_client(policy=PUBLIC_ONLY, timeout_s=2, max_bytes=1024),
    )
    with pytest.raises(anthropic.APIConnectionError) as failed:
        client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}])
    assert isinstance(failed.value.__cause__, RefusedAddress)
    assert server.requests == [], "nothing was sent"


def test_a_name_is_pinned_to_a_checked_address_and_keeps_its_host_header(serve):
    server = serve({"/ping": lambda r: (200, {"Content-Type": "text/plain"}, b"pong")})
    with guarded_sdk_client(policy=OPERATOR_CONFIGURED, timeout_s=2, max_bytes=1024) as client:
        response = client.get(f"http://localhost:{server.port}/ping")
    assert response.text == "pong"
    assert server.requests[-1].headers["Host"] == f"localhost:{server.port}"


def test_an_answer_over_the_cap_is_not_read_whole(serve):
    server = serve({"/big": lambda r: (200, {}, b"x" * 5000)})
    with guarded_sdk_client(policy=OPERATOR_CONFIGURED, timeout_s=2, max_bytes=1000) as client:
        with pytest.raises(BodyTooLarge):
            client.get(server.url("/big"))


def test_environment_proxies_are_ignored(serve, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    server = serve({"/ping": lambda r: (200, {}, b"pong")})
    with guarded_sdk_client(policy=OPERATOR_CONFIGURED, timeout_s=2, max_bytes=1024) as client:
        assert isinstance(client, httpx2.Client) and client.get(server.url("/ping")).text == "pong"
