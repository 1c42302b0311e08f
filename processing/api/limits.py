"""Request limits on the API: which quota a request counts against, and the headers that say
where the caller stands. The counting itself lives in vendors/quotas.py."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from vendors import quotas
from vendors.models import Vendor

USAGES_ATTR = "_darkroom_quota_usages"


def remember(request, usages: list[quotas.QuotaUsage]) -> None:
    setattr(request, USAGES_ATTR, [*getattr(request, USAGES_ATTR, []), *usages])


def consume(request, *, vendor: Vendor, charges: Mapping[str, int]) -> list[quotas.QuotaUsage]:
    """Count a read's charges, all or none; QuotaExceeded (a 429) when they do not fit."""
    usages = quotas.quota_consume(vendor=vendor, charges=charges)
    remember(request, usages)
    return usages


@contextmanager
def charged(request, *, vendor: Vendor, charges: Mapping[str, int]) -> Iterator[quotas.Charge]:
    """quota_charged, with the usages kept for the response's rate-limit headers."""
    with quotas.quota_charged(vendor=vendor, charges=charges) as charge:
        remember(request, charge.usages)
        yield charge


def limit_anonymous(request) -> None:
    """Anonymous callers, and callers whose credentials fail, count against their IP's limit."""
    try:
        user = request.user
    except (AuthenticationFailed, NotAuthenticated):
        user = None
    if user is None or not user.is_authenticated:
        remember(request, [quotas.anonymous_consume(request=request)])


def _seconds_left(usage: quotas.QuotaUsage, now: datetime) -> int:
    return max(0, math.ceil((usage.reset_at - now).total_seconds())) if usage.reset_at else 0


def rate_limit_headers(*usages: quotas.QuotaUsage) -> dict[str, str]:
    """The fields of draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` names every limited
    quota the request counted against (q: limit, w: window in seconds) and `RateLimit` says where
    each stands (r: remaining, t: seconds to its reset), the closest to running out first. Beside
    them the older X-RateLimit-* of that closest one."""
    latest = {usage.name: usage for usage in usages if usage.limit is not None}
    first = quotas.tightest(list(latest.values()))
    if first is None:
        return {}
    ordered = [first, *(usage for name, usage in latest.items() if name != first.name)]
    now = datetime.now(UTC)
    return {
        "RateLimit-Policy": ", ".join(f'"{u.name}";q={u.limit};w={u.window_s}' for u in ordered),
        "RateLimit": ", ".join(f'"{u.name}";r={u.remaining};t={_seconds_left(u, now)}' for u in ordered),
        "X-RateLimit-Limit": str(first.limit),
        "X-RateLimit-Remaining": str(first.remaining),
        "X-RateLimit-Reset": str(int((first.reset_at or now).timestamp())),
    }


def add_rate_limit_headers(request, response) -> None:
    if "RateLimit" in response:  # a refusal already says which quota refused it
        return
    for name, value in rate_limit_headers(*getattr(request, USAGES_ATTR, [])).items():
        response[name] = value
