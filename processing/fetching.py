"""Fetch a job's input image by URL without letting a job reach private networks.

Every hop (the URL and each redirect) is resolved here, every address the name resolves to is
checked, and the connection goes to the checked address itself, so a DNS answer that changes
between check and connect (rebinding) cannot send the request inside.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from .errors import ImageTooLarge, InvalidImage, InvalidParams, PermanentJobError, RetryableJobError

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000
_REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_image_url(url: str) -> str:
    """Syntax and scheme only (no network: this runs on the request path)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidParams(f"image_url must be a URL of at most {MAX_URL_LENGTH} characters", code="invalid_url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidParams(f"image_url is not a valid URL ({exc})", code="invalid_url") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise InvalidParams("image_url must be an http or https URL", code="invalid_url")
    if not parts.hostname:
        raise InvalidParams("image_url has no host", code="invalid_url")
    if parts.username or parts.password:
        raise InvalidParams("image_url must not carry credentials", code="invalid_url")
    if any(ch.isspace() for ch in url):
        raise InvalidParams("image_url must not contain spaces", code="invalid_url")
    return url


def fetch_image(url: str, *, max_bytes: int, timeout_s: float) -> bytes:
    """The image bytes at url, following up to MAX_REDIRECTS redirects.

    Refused addresses and bad URLs are InvalidParams (code url_refused / invalid_url); too many
    bytes ImageTooLarge; not an image InvalidImage; a 4xx PermanentJobError; timeouts, connection
    failures, 5xx and 429 RetryableJobError.
    """
    deadline = time.monotonic() + timeout_s
    current = check_image_url(url)
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body = _get_once(client, current, deadline=deadline, max_bytes=max_bytes)
            if status in _REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise PermanentJobError(f"{current} redirected without a Location", code="url_fetch_failed")
                current = check_image_url(urljoin(current, location))
                continue
            _check_status(status, headers, url=current)
            return _checked_image(body)
    raise PermanentJobError(f"{url} redirected more than {MAX_REDIRECTS} times", code="url_fetch_failed")


def is_refused_address(ip: IpAddress) -> bool:
    """Anything but a public unicast address, also when wrapped in an IPv6 transition address."""

    def refused(address: IpAddress) -> bool:
        return not address.is_global or address.is_multicast

    return refused(ip) or refused(_unwrap_ipv6(ip))


def _get_once(client: httpx.Client, url: str, *, deadline: float, max_bytes: int) -> tuple[int, httpx.Headers, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    addresses = _checked_addresses(host, port)
    last_error: Exception | None = None
    for address in addresses:
        literal = f"[{address}]" if ":" in address else address
        pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        request = client.build_request(
            "GET",
            pinned,
            headers={"Host": parts.netloc, "Accept": "image/*"},
            extensions={"sni_hostname": host, "timeout": _timeouts(deadline)},
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise RetryableJobError(f"fetching {url} timed out", code="url_timeout") from exc
        except httpx.TransportError as exc:
            last_error = exc
            continue  # this address does not answer: try the next one the name has
        try:
            if response.status_code != 200:
                return response.status_code, response.headers, b""
            return (
                response.status_code,
                response.headers,
                _read_capped(response, deadline=deadline, max_bytes=max_bytes),
            )
        except httpx.TimeoutException as exc:
            raise RetryableJobError(f"fetching {url} timed out", code="url_timeout") from exc
        except httpx.TransportError as exc:
            raise RetryableJobError(f"fetching {url} failed: {exc}", code="url_unreachable") from exc
        finally:
            response.close()
    raise RetryableJobError(f"could not connect to {url}: {last_error}", code="url_unreachable")


def _checked_addresses(host: str, port: int) -> list[str]:
    """Every address host resolves to, refusing the URL if any one of them is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            raise InvalidParams(f"the host {host!r} does not exist", code="url_unresolvable") from None
        raise RetryableJobError(f"could not resolve {host!r}: {exc}", code="url_unresolvable") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for address in addresses:
        if _refused(address, port):
            raise InvalidParams(
                f"image_url points at a private, loopback or link-local address ({host} -> {address})",
                code="url_refused",
            )
    if not addresses:
        raise RetryableJobError(f"{host!r} resolved to no address", code="url_unresolvable")
    return addresses


def _refused(address: str, port: int) -> bool:
    if settings.IMAGE_FETCH_ALLOW_PRIVATE:
        return False
    if f"{address}:{port}" in settings.IMAGE_FETCH_PRIVATE_ALLOWLIST:
        return False
    return is_refused_address(ipaddress.ip_address(address))


def _unwrap_ipv6(ip: IpAddress) -> IpAddress:
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _timeouts(deadline: float) -> dict[str, float]:
    remaining = max(0.01, deadline - time.monotonic())
    return {"connect": remaining, "read": remaining, "write": remaining, "pool": remaining}


def _read_capped(response: httpx.Response, *, deadline: float, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ImageTooLarge(f"the image at the URL is {declared} bytes; the limit is {max_bytes} bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLarge(f"the image at the URL is over the limit of {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole download took too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_status(status: int, headers: httpx.Headers, *, url: str) -> None:
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise RetryableJobError(
            f"{url} answered HTTP {status}", code="url_unavailable", retry_after_s=parse_retry_after(headers)
        )
    raise PermanentJobError(f"{url} answered HTTP {status}", code="url_fetch_failed")


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _checked_image(body: bytes) -> bytes:
    # Imported here: job_create uses check_image_url on the request path, which needs no numpy.
    from .imaging.inspect import ALLOWED_CONTENT_TYPES, sniff_content_type

    if not body:
        raise InvalidImage("the URL returned no bytes")
    detected = sniff_content_type(body)
    if detected not in ALLOWED_CONTENT_TYPES:
        raise InvalidImage(
            f"the URL did not return an image Darkroom can read (detected: {detected or 'not an image'})"
        )
    return body
