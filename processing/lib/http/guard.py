"""The one private-address guard for every outbound request (URL inputs, webhook deliveries,
AI endpoints, remote rembg): which URLs are acceptable, and which addresses may be reached."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from processing.lib.errors import InvalidUrl, PortRefused, RefusedAddress, UrlUnresolvable

MAX_URL_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv4-compatible (::a.b.c.d, deprecated) and IPv4-translated (::ffff:0:a.b.c.d) addresses carry
# an IPv4 address in their last 32 bits, as NAT64 does.
_IPV4_IN_LAST_32_BITS = (_NAT64, ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
# Not global, though Python's is_global says so: local-use NAT64 and the deprecated site-local range.
_NOT_GLOBAL = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("fec0::/10"))

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# The ports a URL given by a vendor may name, unless the policy says otherwise: a web server's.
# Anything else (a database, a mail server, Redis on 6379) is not a place to send requests.
WEB_PORTS = frozenset({80, 443})
# Why a host is refused, whether it points inside or does not exist: one answer for both, so
# that refusals cannot map the names of our network.
REFUSED = "the URL's host does not exist or points at a private, loopback or link-local address"


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a request may reach: public ones only, unless private ones are allowed
    altogether (tests, a destination the operator configured) or listed as "address:port"; and
    on which ports (`ports`; None: any), where an "address:port" listed is also allowed."""

    allow_private: bool = False
    allowlist: frozenset[str] = field(default_factory=frozenset)
    ports: frozenset[int] | None = WEB_PORTS

    def refuses(self, address: str, port: int) -> bool:
        if f"{address}:{port}" in self.allowlist:
            return False
        if self.refuses_port(port):
            return True
        if self.allow_private:
            return False
        return is_refused_address(ipaddress.ip_address(address))

    def refuses_port(self, port: int) -> bool:
        """The port is not allowed by itself (an allowlisted "address:port" may still be)."""
        return self.ports is not None and port not in self.ports

    def lists_port(self, port: int) -> bool:
        return any(entry.rsplit(":", 1)[-1] == str(port) for entry in self.allowlist)


PUBLIC_ONLY = AddressPolicy()
# Destinations an operator configured (AI_ENDPOINTS, REMBG_URLS) usually live on a private
# network, on any port.
OPERATOR_CONFIGURED = AddressPolicy(allow_private=True, ports=None)


def check_port(port: int, policy: AddressPolicy) -> None:
    """Refuse a port the policy does not allow before anything is resolved or sent."""
    if policy.refuses_port(port) and not policy.lists_port(port):
        allowed = " or ".join(str(p) for p in sorted(policy.ports or ()))
        raise PortRefused(f"the URL's port {port} is not allowed; use port {allowed}")


def check_url(url: str, *, name: str = "url") -> SplitResult:
    """Syntax and scheme only (no network: this runs on the request path). `name` is how the
    caller's field is called in the error."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(f"{name} must be a URL of at most {MAX_URL_LENGTH} characters", field=name)
    if any(ch.isspace() for ch in url):
        raise InvalidUrl(f"{name} must not contain spaces", field=name)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidUrl(f"{name} is not a valid URL ({exc})", field=name) from None
    if parts.scheme not in DEFAULT_PORTS:
        raise InvalidUrl(f"{name} must be an http or https URL", field=name)
    if not parts.hostname:
        raise InvalidUrl(f"{name} has no host", field=name)
    if parts.username or parts.password:
        raise InvalidUrl(f"{name} must not carry credentials", field=name)
    return parts


def port_of(parts: SplitResult) -> int:
    return parts.port or DEFAULT_PORTS[parts.scheme]


def checked_addresses(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """Every address host resolves to, refusing the host if any one of them is refused."""
    check_port(port, policy)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            # Refused as an inside address is, in the same words: else a vendor could tell the
            # names of our network (`mysql`, `redis`) from names that do not exist.
            raise RefusedAddress(REFUSED, detail=f"{host!r} does not exist") from None
        raise UrlUnresolvable(f"could not resolve {host!r}", detail=f"could not resolve {host!r}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for address in addresses:
        if policy.refuses(address, port):
            # The resolved address stays with operators: it maps the inside of our network.
            raise RefusedAddress(REFUSED, detail=f"{host} -> {address} port {port}")
    if not addresses:
        raise UrlUnresolvable(f"{host!r} resolved to no address")
    return addresses


def is_refused_address(ip: IpAddress) -> bool:
    """Anything but a public unicast address, also when wrapped in an IPv6 transition address."""

    def refused(address: IpAddress) -> bool:
        if not address.is_global or address.is_multicast:
            return True
        return address.version == 6 and any(address in network for network in _NOT_GLOBAL)

    return refused(ip) or refused(_unwrap_ipv6(ip))


def _unwrap_ipv6(ip: IpAddress) -> IpAddress:
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _IPV4_IN_LAST_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip
