"""An HTTP client for the official AI SDKs (anthropic, openai), which send through `httpx2`:
the same rules as safe_request (client.py) for every request they make. Each request's host is
resolved and checked against the AddressPolicy, the connection goes to a checked address (Host
header and TLS name kept), no proxy from the environment, no redirects, and the answer's body
is read up to a cap."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2

from processing.lib.http.client import BodyTooLarge
from processing.lib.http.guard import DEFAULT_PORTS, AddressPolicy, checked_addresses


class _CappedStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, max_bytes: int):
        self.inner, self.max_bytes = inner, max_bytes

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self.inner:
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge(f"the answer is over the limit of {self.max_bytes} bytes")
            yield chunk

    def close(self) -> None:
        self.inner.close()


class GuardedTransport(httpx2.BaseTransport):
    """Sends each request to an address of its host that `policy` allows."""

    def __init__(self, policy: AddressPolicy, max_bytes: int):
        self.policy, self.max_bytes = policy, max_bytes
        self.inner = httpx2.HTTPTransport(trust_env=False, retries=0)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        port = request.url.port or DEFAULT_PORTS.get(request.url.scheme, 443)
        last_error: Exception | None = None
        # The Host header was set from the URL when the request was built; it stays.
        request.extensions = {**request.extensions, "sni_hostname": host}
        for address in checked_addresses(host, port, self.policy):
            request.url = request.url.copy_with(host=address)
            try:
                response = self.inner.handle_request(request)
            except httpx2.ConnectError as exc:
                last_error = exc
                continue  # this address does not answer: try the next one the name has
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                response.close()
                raise BodyTooLarge(f"the answer is {declared} bytes; the limit is {self.max_bytes} bytes")
            assert isinstance(response.stream, httpx2.SyncByteStream)  # a sync transport's answer
            response.stream = _CappedStream(response.stream, self.max_bytes)
            return response
        raise last_error or httpx2.ConnectError(f"could not connect to {host}", request=request)

    def close(self) -> None:
        self.inner.close()


def guarded_sdk_client(*, policy: AddressPolicy, timeout_s: float, max_bytes: int) -> httpx2.Client:
    """An httpx2.Client to hand an SDK as `http_client`."""
    return httpx2.Client(
        transport=GuardedTransport(policy, max_bytes),
        timeout=httpx2.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    )
