"""The one SSRF-safe HTTP client. Each request resolves the host, checks every address it
resolves to against the caller's AddressPolicy, and connects to a checked address itself (Host
header and TLS name kept), so a DNS answer that changes between check and connect (rebinding)
cannot send the request inside. Bodies are read up to a cap, never whole, and a compressed body
is decompressed a chunk at a time against that cap, so a small gzip bomb cannot expand in memory."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlunsplit

import httpx

from processing.lib.errors import ImageTooLarge
from processing.lib.http.guard import AddressPolicy, check_url, checked_addresses, port_of


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()


class BodyTooLarge(ImageTooLarge):
    code = "response_too_large"


class UnreadableAnswer(httpx.DecodingError):
    """The answer's Content-Encoding is not one this client decodes (it asks for gzip and
    deflate only), or its compressed bytes are broken."""


# Decompressed bytes produced per step: what the body may hold beyond its cap, at most.
CHUNK_BYTES = 64 * 1024
# What this client asks for, and decodes itself, chunk by chunk (httpx's decoders would turn one
# network read into all it expands to: 10 KB of gzip into 10 MB).
ACCEPT_ENCODING = "gzip, deflate"
_DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: zlib.decompressobj(zlib.MAX_WBITS | 16),
    "x-gzip": lambda: zlib.decompressobj(zlib.MAX_WBITS | 16),
    "deflate": lambda: zlib.decompressobj(zlib.MAX_WBITS),
}


def safe_request(
    method: str,
    url: str,
    *,
    policy: AddressPolicy,
    timeout_s: float,
    max_bytes: int,
    truncate: bool = False,
    headers: dict[str, str] | None = None,
    **send: Any,
) -> Answer:
    """One request, no redirects followed. A body over `max_bytes` raises BodyTooLarge, or is
    cut there with `truncate`. Refused addresses raise RefusedAddress; transport failures and
    timeouts raise httpx's own exceptions (TransportError, TimeoutException) for the caller to name."""
    deadline = time.monotonic() + timeout_s
    parts = check_url(url)
    host, port = parts.hostname or "", port_of(parts)  # check_url refused a URL without a host
    last_error: Exception | None = None
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        for address in checked_addresses(host, port, policy):
            literal = f"[{address}]" if ":" in address else address
            pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
            request = client.build_request(
                method,
                pinned,
                headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {}), "Host": parts.netloc},
                extensions={"sni_hostname": host, "timeout": _timeouts(deadline)},
                **send,
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last_error = exc
                continue  # this address does not answer: try the next one the name has
            try:
                body, truncated = _read_capped(response, deadline=deadline, max_bytes=max_bytes, truncate=truncate)
                return Answer(response.status_code, response.headers, body, truncated)
            finally:
                response.close()
    raise last_error or httpx.ConnectError(f"could not connect to {url}")


def _timeouts(deadline: float) -> dict[str, float]:
    remaining = max(0.01, deadline - time.monotonic())
    return {"connect": remaining, "read": remaining, "write": remaining, "pool": remaining}


def _read_capped(response: httpx.Response, *, deadline: float, max_bytes: int, truncate: bool) -> tuple[bytes, bool]:
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"the answer is {declared} bytes; the limit is {max_bytes} bytes")
    chunks, size = [], 0
    for chunk in _decoded(response):
        if size + len(chunk) > max_bytes:
            if not truncate:
                raise BodyTooLarge(f"the answer is over the limit of {max_bytes} bytes")
            chunks.append(chunk[: max_bytes - size])
            return b"".join(chunks), True
        size += len(chunk)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole answer took too long")
        chunks.append(chunk)
    return b"".join(chunks), False


def _decoded(response: httpx.Response) -> Iterator[bytes]:
    """The body as it streams, decompressed at most CHUNK_BYTES at a time."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw(CHUNK_BYTES)
        return
    if encoding not in _DECOMPRESSORS:
        raise UnreadableAnswer(f"the answer is encoded as {encoding!r}; only gzip and deflate are read")
    decompressor = _DECOMPRESSORS[encoding]()
    try:
        for raw in response.iter_raw(CHUNK_BYTES):
            pending = raw
            while True:
                out = decompressor.decompress(pending, CHUNK_BYTES)
                if out:
                    yield out
                pending = decompressor.unconsumed_tail
                if not pending and len(out) < CHUNK_BYTES:
                    break
        rest = decompressor.flush()  # all input is in: what remains is under one step's output
    except zlib.error as exc:
        raise UnreadableAnswer(f"the answer's {encoding} bytes are broken: {exc}") from None
    if rest:
        yield rest


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
