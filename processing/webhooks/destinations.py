"""Where a webhook may be sent: http or https, and (unless WEBHOOK_ALLOW_PRIVATE_URLS) only to
public addresses, so a vendor cannot make Darkroom call into its own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from processing.errors import InvalidParams
from processing.fetching import is_refused_address

MAX_URL_LENGTH = 2000


class RefusedDestination(InvalidParams):
    code = "url_refused"


def check_webhook_url(url: str, *, resolve: bool = True) -> str:
    """The URL, if it may receive webhooks; InvalidParams (field `url`) if not."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or any(ch.isspace() for ch in url):
        raise InvalidParams(f"url must be a URL of at most {MAX_URL_LENGTH} characters", code="invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidParams(f"url is not a valid URL ({exc})", code="invalid_url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidParams("url must be an http or https URL", code="invalid_url")
    if not parts.hostname:
        raise InvalidParams("url has no host", code="invalid_url")
    if parts.username or parts.password:
        raise InvalidParams("url must not carry credentials", code="invalid_url")
    if resolve and not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        _public_addresses(parts.hostname, port)
    return url


def pinned_target(url: str) -> tuple[str, str, str]:
    """Where to send a delivery: (the URL with its host replaced by a checked address, the Host
    header, the TLS server name). Connecting to the address that was checked means a second DNS
    answer cannot turn the delivery towards a private network (DNS rebinding)."""
    check_webhook_url(url, resolve=False)
    parts = urlsplit(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return url, parts.netloc, parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_addresses(parts.hostname, port)[0]
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    return pinned, parts.netloc, parts.hostname


def _public_addresses(host: str, port: int) -> list[str]:
    """Every address the host resolves to, refusing it if any one is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InvalidParams(f"the host {host!r} does not resolve", code="url_unresolvable") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if is_refused_address(address):
            raise RefusedDestination(f"url points at a private, loopback or link-local address ({host} -> {address})")
        addresses.append(str(address))
    return addresses
