"""The client's address behind trusted proxies. X-Forwarded-For is believed only when the peer
is a listed proxy; it is read from the right (each proxy appends the address it saw), past the
hops that are themselves listed, to the first one that is not. That is the rule uvicorn and
gunicorn apply with FORWARDED_ALLOW_IPS, so an address they already resolved resolves to itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    everyone: bool = False
    networks: tuple[Network, ...] = ()

    def trusts(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@lru_cache(maxsize=16)
def trusted_proxies(entries: Iterable[str]) -> TrustedProxies:
    """From addresses and networks ("10.0.0.5", "172.18.0.0/16"); "*" trusts every peer.
    Raises ValueError for an entry that is neither."""
    entries = tuple(e.strip() for e in entries if e.strip())
    if "*" in entries:
        return TrustedProxies(everyone=True)
    return TrustedProxies(networks=tuple(ipaddress.ip_network(e, strict=False) for e in entries))


def client_address(*, peer: str, forwarded_for: str, proxies: TrustedProxies) -> str:
    """The address a request came from: the peer's, unless the peer is a trusted proxy and
    X-Forwarded-For names an address behind it."""
    if not forwarded_for or not proxies.trusts(peer):
        return peer
    hops = [_host(hop) for hop in forwarded_for.split(",") if hop.strip()]
    if not hops:
        return peer
    if proxies.everyone:
        candidate = hops[0]
    else:
        # Every hop trusted: the client is a proxy of ours too, the leftmost (as uvicorn says).
        candidate = next((hop for hop in reversed(hops) if not proxies.trusts(hop)), hops[0])
    return candidate if _is_address(candidate) else peer


def _host(hop: str) -> str:
    hop = hop.strip()
    if hop.startswith("["):  # [v6]:port
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:  # v4:port
        return hop.split(":")[0]
    return hop


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
